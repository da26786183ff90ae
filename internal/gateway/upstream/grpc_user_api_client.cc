#include "internal/gateway/upstream/grpc_user_api_client.h"

#include "internal/gateway/upstream/grpc_forward.h"
#include "periscope/userapi/v1/userapi_service.grpc.pb.h"

namespace periscope::gateway {
namespace {

using Stub = userapi_v1::UserApiService::Stub;

class GrpcUserApiClient final : public UserApiClient {
 public:
  GrpcUserApiClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(userapi_v1::UserApiService::NewStub(std::move(channel))), timeout_(timeout) {}

  PERISCOPE_GRPC_FORWARD(userapi_v1, PerformAccountCreation)
  PERISCOPE_GRPC_FORWARD(userapi_v1, QueryAccountAvailability)
  PERISCOPE_GRPC_FORWARD(userapi_v1, PerformPasswordLogin)
  PERISCOPE_GRPC_FORWARD(userapi_v1, QueryAccessToken)
  PERISCOPE_GRPC_FORWARD(userapi_v1, PerformLogout)
  PERISCOPE_GRPC_FORWARD(userapi_v1, PerformLogoutAll)
  PERISCOPE_GRPC_FORWARD(userapi_v1, QueryProfile)
  PERISCOPE_GRPC_FORWARD(userapi_v1, PerformSetProfile)

 private:
  std::unique_ptr<Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<UserApiClient> NewGrpcUserApiClient(std::shared_ptr<grpc::Channel> channel,
                                                    absl::Duration timeout) {
  return std::make_unique<GrpcUserApiClient>(std::move(channel), timeout);
}

}  // namespace periscope::gateway
