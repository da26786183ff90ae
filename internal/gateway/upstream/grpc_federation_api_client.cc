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
  // A transaction may take the federationapi its whole processing budget (60 s: up to 50 PDUs,
  // missing events fetched from the origin); cut short, the sender would count a failure and
  // back off although the work was done.
  void SendTransaction(const federationapi_v1::SendTransactionRequest& request,
                       Callback<federationapi_v1::SendTransactionResponse> done) override {
    grpcutil::CallUnary<federationapi_v1::SendTransactionRequest,
                        federationapi_v1::SendTransactionResponse>(
        [stub = stub_.get()](auto* ctx, auto* req, auto* resp, auto cb) {
          stub->async()->SendTransaction(ctx, req, resp, std::move(cb));
        },
        request, std::max(timeout_, absl::Seconds(90)), std::move(done));
  }
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetEvent)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetState)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetStateIds)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetEventAuth)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, GetMissingEvents)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, Backfill)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, MakeJoin)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, MakeLeave)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, SendLeave)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, Invite)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, Peek)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, RenewPeek)
  PERISCOPE_GRPC_FORWARD(federationapi_v1, Unpeek)
  // A join waits for the roomserver to place it and for the room's state and auth chain.
  void SendJoin(const federationapi_v1::SendJoinRequest& request,
                Callback<federationapi_v1::SendJoinResponse> done) override {
    grpcutil::CallUnary<federationapi_v1::SendJoinRequest, federationapi_v1::SendJoinResponse>(
        [stub = stub_.get()](auto* ctx, auto* req, auto* resp, auto cb) {
          stub->async()->SendJoin(ctx, req, resp, std::move(cb));
        },
        request, std::max(timeout_, absl::Seconds(60)), std::move(done));
  }

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
