#include "internal/gateway/auth/authenticator.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {

std::optional<std::string> Authenticator::ExtractToken(const HttpRequest& request) {
  if (const std::string* header = request.Header("authorization")) {
    absl::string_view value = absl::StripAsciiWhitespace(*header);
    if (value.size() > 7 && absl::StartsWithIgnoreCase(value, "bearer ")) {
      return std::string(absl::StripAsciiWhitespace(value.substr(7)));
    }
  }
  if (const std::string* query = request.QueryParam("access_token")) return *query;
  return std::nullopt;
}

void Authenticator::Authenticate(const HttpRequest& request,
                                 std::function<void(absl::StatusOr<userapi::v1::Device>)> done) {
  std::optional<std::string> token = ExtractToken(request);
  if (!token.has_value() || token->empty()) {
    done(MatrixError(absl::StatusCode::kUnauthenticated, matrix::errcode::kMissingToken,
                     "Missing access token"));
    return;
  }
  if (std::optional<userapi::v1::Device> cached = cache_.Get(*token)) {
    done(*std::move(cached));
    return;
  }
  userapi::v1::QueryAccessTokenRequest req;
  req.set_access_token(*token);
  const uint64_t ticket = cache_.LookupTicket();
  userapi_.QueryAccessToken(req, [this, ticket, token = *token, done = std::move(done)](
                                     absl::StatusOr<userapi::v1::QueryAccessTokenResponse> r) {
    if (!r.ok()) return done(r.status());
    cache_.Put(token, r->device(), ticket);
    done(r->device());
  });
}

}  // namespace periscope::gateway
