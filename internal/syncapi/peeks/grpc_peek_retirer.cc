#include "internal/syncapi/peeks/grpc_peek_retirer.h"

#include "absl/time/clock.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::syncapi {
namespace {

class GrpcPeekRetirer final : public PeekRetirer {
 public:
  GrpcPeekRetirer(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(roomserver::v1::RoomserverService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::Status RetireExpired(const std::string& room_id, const std::string& user_id,
                             const std::string& device_id) override {
    roomserver::v1::PerformUnpeekRequest request;
    request.set_room_id(room_id);
    request.set_user_id(user_id);
    request.set_device_id(device_id);
    request.set_reason(roomserver::v1::UNPEEK_REASON_EXPIRED);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::PerformUnpeekResponse response;
    grpc::Status status = stub_->PerformUnpeek(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<roomserver::v1::RoomserverService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<PeekRetirer> NewGrpcPeekRetirer(std::shared_ptr<grpc::Channel> roomserver,
                                                absl::Duration timeout) {
  return std::make_unique<GrpcPeekRetirer>(std::move(roomserver), timeout);
}

}  // namespace periscope::syncapi
