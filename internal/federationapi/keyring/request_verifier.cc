#include "internal/federationapi/keyring/request_verifier.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/x_matrix.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

absl::Status Unauthorized(absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnauthenticated, "M_UNAUTHORIZED", why);
}

}  // namespace

absl::StatusOr<AuthenticatedRequest> RequestVerifier::Verify(const InboundRequest& request) {
  if (request.authorization.empty()) return Unauthorized("Missing Authorization headers");
  AuthenticatedRequest out;
  std::optional<matrix::Json> content;
  if (!request.body.empty() || request.method == "PUT" || request.method == "POST") {
    absl::StatusOr<matrix::Json> parsed = matrix::ParseJson(request.body);
    if (!parsed.ok() || !parsed->is_object()) {
      return MatrixError(absl::StatusCode::kInvalidArgument, "M_NOT_JSON",
                         "The request body is not a JSON object");
    }
    content = *parsed;
    out.content = *std::move(parsed);
  }
  std::vector<matrix::XMatrixAuthorization> headers;
  for (const std::string& header : request.authorization) {
    absl::StatusOr<matrix::XMatrixAuthorization> auth = matrix::ParseXMatrixAuthorization(header);
    if (!auth.ok()) return auth.status();
    if (!auth->destination.empty() && auth->destination != our_server_name_) {
      return Unauthorized(absl::StrCat("the request is for ", auth->destination, ", not for us"));
    }
    if (!headers.empty() && auth->origin != headers.front().origin) {
      return Unauthorized("Authorization headers name different origins");
    }
    headers.push_back(*std::move(auth));
  }
  // Every signature must verify (one bad one fails the request, as in Synapse).
  for (const matrix::XMatrixAuthorization& auth : headers) {
    absl::StatusOr<std::string> key = keyring_.RequestKey(auth.origin, auth.key_id);
    if (!key.ok()) {
      if (absl::IsUnauthenticated(key.status())) return key.status();
      return absl::UnavailableError(
          absl::StrCat("cannot read the keys of ", auth.origin, ": ", key.status().message()));
    }
    if (absl::Status s = matrix::VerifyXMatrix(auth, request.method, request.target, content,
                                               our_server_name_, *key);
        !s.ok()) {
      return s;
    }
  }
  out.origin = headers.front().origin;
  return out;
}

}  // namespace periscope::federationapi
