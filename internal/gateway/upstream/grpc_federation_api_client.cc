#include "internal/gateway/upstream/grpc_federation_api_client.h"

#include "internal/gateway/upstream/grpc_forward.h"
#include "periscope/federationapi/v1/federationapi_service.grpc.pb.h"

namespace periscope::gateway {
namespace {

class GrpcFederationApiClient final : public FederationApiClient {
 public:
  GrpcFederationApiClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(federationapi_v1::FederationApiService::NewStub(std::move(channel))),
        timeout_(timeout) {}

  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetServerKeys)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetVersion)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, QueryKeys)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, QueryDirectory)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, QueryProfile)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, SendTransaction)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetEvent)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetState)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetStateIds)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetEventAuth)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetMissingEvents)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, Backfill)

 private:
  std::unique_ptr<federationapi_v1::FederationApiService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<FederationApiClient> NewGrpcFederationApiClient(
    std::shared_ptr<grpc::Channel> channel, absl::Duration timeout) {
  return std::make_unique<GrpcFederationApiClient>(std::move(channel), timeout);
}

}  // namespace periscope::gateway
