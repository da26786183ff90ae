#pragma once
// Server signing-key documents: GET /_matrix/key/v2/server (server-server spec "Retrieving server
// keys"): producing our own self-signed document, and checking a remote server's.

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::matrix {

// Our key document: server_name, verify_keys {key_id: {key}}, old_verify_keys {}, valid_until_ts,
// signed by `key` itself.
absl::StatusOr<Json> BuildServerKeys(absl::string_view server_name, const SigningKey& key,
                                     absl::Time valid_until);

struct OldVerifyKey {
  std::string public_key;  // 32 bytes
  absl::Time expired;      // valid for events sent before this
};

struct ServerKeys {
  std::string server_name;
  // key id -> 32-byte public key
  std::map<std::string, std::string> verify_keys;
  std::map<std::string, OldVerifyKey> old_verify_keys;
  absl::Time valid_until;
};

// Checks a remote document: the server name is the expected one, every verify key is well formed,
// at least one of them has signed the document (as Synapse requires; a key that did not sign is
// vouched for by one that did), old keys are well formed, and valid_until_ts is present.
// Receivers should trust the keys until min(valid_until, now + 7 days) (the caller applies that).
// Key ids of other algorithms are skipped.
absl::StatusOr<ServerKeys> VerifyServerKeys(const Json& document,
                                            absl::string_view expected_server_name);

}  // namespace periscope::matrix
