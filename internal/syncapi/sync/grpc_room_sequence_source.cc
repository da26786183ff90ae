#include "internal/syncapi/sync/grpc_room_sequence_source.h"

#include "absl/time/clock.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::syncapi {
namespace {

class GrpcRoomSequenceSource final : public RoomSequenceSource {
 public:
  GrpcRoomSequenceSource(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(roomserver::v1::RoomserverService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::StatusOr<int64_t> LatestSequence(const std::string& room_id) override {
    roomserver::v1::QueryRoomSequenceRequest request;
    request.set_room_id(room_id);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::QueryRoomSequenceResponse response;
    grpc::Status status = stub_->QueryRoomSequence(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return response.room_sequence();
  }

 private:
  std::unique_ptr<roomserver::v1::RoomserverService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<RoomSequenceSource> NewGrpcRoomSequenceSource(
    std::shared_ptr<grpc::Channel> roomserver, absl::Duration timeout) {
  return std::make_unique<GrpcRoomSequenceSource>(std::move(roomserver), timeout);
}

}  // namespace periscope::syncapi
