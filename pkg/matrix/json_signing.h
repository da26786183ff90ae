#pragma once
// Signing and verifying JSON objects with ed25519 (spec appendix "Signing JSON").

#include <string>

#include "absl/status/statusor.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::matrix {

// The object's signature by `key`: the canonical JSON of the object without "signatures" and
// "unsigned", signed with ed25519, unpadded base64.
absl::StatusOr<std::string> JsonSignature(const Json& object, const SigningKey& key);

// Returns `object` with signatures[entity][key.key_id] set (other signatures and "unsigned" kept).
absl::StatusOr<Json> SignJson(Json object, absl::string_view entity, const SigningKey& key);

// Checks signatures[entity][key_id] against the 32-byte `public_key`. UNAUTHENTICATED (M_FORBIDDEN)
// if the signature is missing, malformed or wrong.
absl::Status VerifyJsonSignature(const Json& object, absl::string_view entity,
                                 absl::string_view key_id, absl::string_view public_key);

}  // namespace periscope::matrix
