#pragma once
// Resolves a request's access token (Authorization: Bearer, or ?access_token=) to a device,
// through the cache or the userapi.

#include <functional>

#include "absl/status/statusor.h"
#include "internal/gateway/auth/access_token_cache.h"
#include "internal/gateway/http/http_message.h"
#include "internal/gateway/upstream/user_api_client.h"

namespace periscope::gateway {

class Authenticator {
 public:
  Authenticator(UserApiClient& userapi, AccessTokenCache& cache)
      : userapi_(userapi), cache_(cache) {}

  // Calls `done` with the device, or with M_MISSING_TOKEN / M_UNKNOWN_TOKEN (UNAUTHENTICATED), or
  // with the userapi's failure.
  void Authenticate(const HttpRequest& request,
                    std::function<void(absl::StatusOr<userapi::v1::Device>)> done);

  // The token a request carries, if any.
  static std::optional<std::string> ExtractToken(const HttpRequest& request);

  AccessTokenCache& cache() { return cache_; }

 private:
  UserApiClient& userapi_;
  AccessTokenCache& cache_;
};

}  // namespace periscope::gateway
