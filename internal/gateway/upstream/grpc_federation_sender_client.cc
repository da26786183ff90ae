#include "internal/gateway/upstream/grpc_federation_sender_client.h"

#include "internal/gateway/upstream/grpc_forward.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"

namespace periscope::gateway {
namespace {

class GrpcFederationSenderClient final : public FederationSenderClient {
 public:
  GrpcFederationSenderClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(federationsender_v1::FederationSenderService::NewStub(std::move(channel))),
        timeout_(timeout) {}

  PERISCOPE_GRPC_FORWARD(federationsender_v1, QueryRemoteProfile)
  PERISCOPE_GRPC_FORWARD(federationsender_v1, QueryRemoteAlias)

 private:
  std::unique_ptr<federationsender_v1::FederationSenderService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<FederationSenderClient> NewGrpcFederationSenderClient(
    std::shared_ptr<grpc::Channel> channel, absl::Duration timeout) {
  return std::make_unique<GrpcFederationSenderClient>(std::move(channel), timeout);
}

}  // namespace periscope::gateway
