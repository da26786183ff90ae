#include "internal/gateway/upstream/grpc_user_api_client.h"

#include "periscope/userapi/v1/userapi_service.grpc.pb.h"
#include "pkg/grpc/async_call.h"

namespace periscope::gateway {
namespace {

using Stub = userapi_v1::UserApiService::Stub;

// Each method forwards to the stub's callback API through CallUnary.
#define PERISCOPE_FORWARD(Method)                                                   \
  void Method(const userapi_v1::Method##Request& request,                           \
              Callback<userapi_v1::Method##Response> done) override {               \
    grpcutil::CallUnary<userapi_v1::Method##Request, userapi_v1::Method##Response>( \
        [stub = stub_.get()](auto* ctx, auto* req, auto* resp, auto cb) {           \
          stub->async()->Method(ctx, req, resp, std::move(cb));                     \
        },                                                                          \
        request, timeout_, std::move(done));                                        \
  }

class GrpcUserApiClient final : public UserApiClient {
 public:
  GrpcUserApiClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(userapi_v1::UserApiService::NewStub(std::move(channel))), timeout_(timeout) {}

  PERISCOPE_FORWARD(PerformAccountCreation)
  PERISCOPE_FORWARD(QueryAccountAvailability)
  PERISCOPE_FORWARD(PerformPasswordLogin)
  PERISCOPE_FORWARD(QueryAccessToken)
  PERISCOPE_FORWARD(PerformLogout)
  PERISCOPE_FORWARD(PerformLogoutAll)

 private:
  std::unique_ptr<Stub> stub_;
  absl::Duration timeout_;
};

#undef PERISCOPE_FORWARD

}  // namespace

std::unique_ptr<UserApiClient> NewGrpcUserApiClient(std::shared_ptr<grpc::Channel> channel,
                                                    absl::Duration timeout) {
  return std::make_unique<GrpcUserApiClient>(std::move(channel), timeout);
}

}  // namespace periscope::gateway
