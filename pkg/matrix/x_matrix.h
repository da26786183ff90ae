#pragma once
// X-Matrix request authentication (server-server spec "Request Authentication"): building the
// Authorization header of an outgoing request, parsing one from an incoming request, and checking
// it against the origin's key.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::matrix {

struct XMatrixAuthorization {
  std::string origin;
  std::string destination;  // empty if the sender did not send one (allowed before spec v1.3)
  std::string key_id;
  std::string signature;  // unpadded base64
};

// The JSON a request signature covers: method, uri (path and query as sent), origin,
// destination, and content if the request has a JSON body.
Json XMatrixSignedObject(absl::string_view method, absl::string_view uri, absl::string_view origin,
                         absl::string_view destination, const std::optional<Json>& content);

// `X-Matrix origin="…",destination="…",key="…",sig="…"` for a request from `origin` to
// `destination`, signed with `key`.
absl::StatusOr<std::string> BuildXMatrixAuthorization(
    absl::string_view method, absl::string_view uri, absl::string_view origin,
    absl::string_view destination, const std::optional<Json>& content, const SigningKey& key);

// Parses an Authorization header value: scheme "X-Matrix" (case-insensitive), comma-separated
// parameters in any order with case-insensitive names, values quoted or not (unquoted values may
// contain ':'). The signature parameter is "sig". origin, key and sig are required.
// Errors: UNAUTHENTICATED with M_UNAUTHORIZED.
absl::StatusOr<XMatrixAuthorization> ParseXMatrixAuthorization(absl::string_view header);

// Checks a parsed header: `destination`, if given, must be `our_server_name`, and the signature
// must verify with `public_key` (the origin's key `auth.key_id`).
absl::Status VerifyXMatrix(const XMatrixAuthorization& auth, absl::string_view method,
                           absl::string_view uri, const std::optional<Json>& content,
                           absl::string_view our_server_name, absl::string_view public_key);

}  // namespace periscope::matrix
