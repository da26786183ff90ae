// The rate limits of POST /login and POST /register (gateway.auth_rate_limit_*): per client
// address for both, and per user for /login.

#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"

namespace periscope::gateway {

std::optional<HttpResponse> AuthRateLimited(ClientRouteDeps& deps, const std::string& address,
                                            const std::string& user) {
  absl::Duration wait = absl::ZeroDuration();
  if (!address.empty() && deps.auth_by_address != nullptr) {
    wait = deps.auth_by_address->Take(address);
  }
  if (wait == absl::ZeroDuration() && !user.empty() && deps.auth_by_user != nullptr) {
    wait = deps.auth_by_user->Take(user);
  }
  if (wait == absl::ZeroDuration()) return std::nullopt;
  return LimitExceededResponse(wait, "Too many login or registration attempts; slow down");
}

}  // namespace periscope::gateway
