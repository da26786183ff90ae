#pragma once
// The gateway's view of the userapi: asynchronous calls with completion callbacks (which run on
// a gRPC thread). Narrow and gRPC-free, so route handlers and their tests never include gRPC.

#include <functional>

#include "absl/status/statusor.h"
#include "periscope/userapi/v1/userapi.pb.h"

namespace periscope::gateway {

namespace userapi_v1 = ::periscope::userapi::v1;

template <typename T>
using Callback = std::function<void(absl::StatusOr<T>)>;

class UserApiClient {
 public:
  virtual ~UserApiClient() = default;
  virtual void PerformAccountCreation(
      const userapi_v1::PerformAccountCreationRequest& request,
      Callback<userapi_v1::PerformAccountCreationResponse> done) = 0;
  virtual void QueryAccountAvailability(
      const userapi_v1::QueryAccountAvailabilityRequest& request,
      Callback<userapi_v1::QueryAccountAvailabilityResponse> done) = 0;
  virtual void PerformPasswordLogin(const userapi_v1::PerformPasswordLoginRequest& request,
                                    Callback<userapi_v1::PerformPasswordLoginResponse> done) = 0;
  virtual void QueryAccessToken(const userapi_v1::QueryAccessTokenRequest& request,
                                Callback<userapi_v1::QueryAccessTokenResponse> done) = 0;
  virtual void PerformLogout(const userapi_v1::PerformLogoutRequest& request,
                             Callback<userapi_v1::PerformLogoutResponse> done) = 0;
  virtual void PerformLogoutAll(const userapi_v1::PerformLogoutAllRequest& request,
                                Callback<userapi_v1::PerformLogoutAllResponse> done) = 0;
  virtual void QueryProfile(const userapi_v1::QueryProfileRequest& request,
                            Callback<userapi_v1::QueryProfileResponse> done) = 0;
  virtual void PerformSetProfile(const userapi_v1::PerformSetProfileRequest& request,
                                 Callback<userapi_v1::PerformSetProfileResponse> done) = 0;
};

}  // namespace periscope::gateway
