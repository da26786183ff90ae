#include "internal/gateway/upstream/grpc_sync_api_client.h"

#include "internal/gateway/upstream/grpc_forward.h"
#include "periscope/syncapi/v1/syncapi_service.grpc.pb.h"
#include "pkg/grpc/async_call.h"

namespace periscope::gateway {
namespace {

class GrpcSyncApiClient final : public SyncApiClient {
 public:
  GrpcSyncApiClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(syncapi_v1::SyncApiService::NewStub(std::move(channel))), timeout_(timeout) {}

  void Sync(const syncapi_v1::SyncRequest& request, Callback<syncapi_v1::SyncResponse> done,
            std::shared_ptr<Cancellation> cancellation) override {
    // The long-poll itself may take timeout_ms; the upstream timeout is on top of that.
    absl::Duration deadline =
        absl::Milliseconds(std::max<int64_t>(request.timeout_ms(), 0)) + timeout_;
    std::function<void()> cancel =
        grpcutil::CallUnary<syncapi_v1::SyncRequest, syncapi_v1::SyncResponse>(
            [stub = stub_.get()](auto* ctx, auto* req, auto* resp, auto cb) {
              stub->async()->Sync(ctx, req, resp, std::move(cb));
            },
            request, deadline, std::move(done));
    if (cancellation) cancellation->OnCancel(std::move(cancel));
  }

  PERISCOPE_GRPC_FORWARD(syncapi_v1, QueryMessages)
  PERISCOPE_GRPC_FORWARD(syncapi_v1, QueryContext)
  PERISCOPE_GRPC_FORWARD(syncapi_v1, QueryRoomEvent)
  PERISCOPE_GRPC_FORWARD(syncapi_v1, QueryRoomState)
  PERISCOPE_GRPC_FORWARD(syncapi_v1, PutAccountData)
  PERISCOPE_GRPC_FORWARD(syncapi_v1, QueryAccountData)
  PERISCOPE_GRPC_FORWARD(syncapi_v1, PerformTag)

 private:
  std::unique_ptr<syncapi_v1::SyncApiService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<SyncApiClient> NewGrpcSyncApiClient(std::shared_ptr<grpc::Channel> channel,
                                                    absl::Duration timeout) {
  return std::make_unique<GrpcSyncApiClient>(std::move(channel), timeout);
}

}  // namespace periscope::gateway
