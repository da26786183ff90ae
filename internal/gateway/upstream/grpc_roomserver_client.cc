#include "internal/gateway/upstream/grpc_roomserver_client.h"

#include "internal/gateway/upstream/grpc_forward.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"

namespace periscope::gateway {
namespace {

using Stub = roomserver_v1::RoomserverService::Stub;

class GrpcRoomserverClient final : public RoomserverClient {
 public:
  GrpcRoomserverClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(roomserver_v1::RoomserverService::NewStub(std::move(channel))), timeout_(timeout) {}

  PERISCOPE_GRPC_FORWARD(roomserver_v1, PerformCreateRoom)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, PerformSendEvent)
  // A join of a room on other servers waits for make_join, send_join and the room's state, and a
  // peek of one for PUT /peek and the snapshot taken in (the roomserver gives the federationapi
  // 120 s for either): cut short, the client would retry a call that is still going on.
  void PerformMembership(const roomserver_v1::PerformMembershipRequest& request,
                         Callback<roomserver_v1::PerformMembershipResponse> done) override {
    grpcutil::CallUnary<roomserver_v1::PerformMembershipRequest,
                        roomserver_v1::PerformMembershipResponse>(
        [stub = stub_.get()](auto* ctx, auto* req, auto* resp, auto cb) {
          stub->async()->PerformMembership(ctx, req, resp, std::move(cb));
        },
        request, std::max(timeout_, kFederatedCallTimeout), std::move(done));
  }
  void PerformPeek(const roomserver_v1::PerformPeekRequest& request,
                   Callback<roomserver_v1::PerformPeekResponse> done) override {
    grpcutil::CallUnary<roomserver_v1::PerformPeekRequest, roomserver_v1::PerformPeekResponse>(
        [stub = stub_.get()](auto* ctx, auto* req, auto* resp, auto cb) {
          stub->async()->PerformPeek(ctx, req, resp, std::move(cb));
        },
        request, std::max(timeout_, kFederatedCallTimeout), std::move(done));
  }
  PERISCOPE_GRPC_FORWARD(roomserver_v1, PerformUnpeek)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, QueryMembership)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, QueryCurrentState)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, QueryEventsById)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, QueryJoinedRooms)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, PerformSetAlias)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, PerformRemoveAlias)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, QueryAlias)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, PerformSetVisibility)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, QueryVisibility)
  PERISCOPE_GRPC_FORWARD(roomserver_v1, QueryPublicRooms)

 private:
  static constexpr absl::Duration kFederatedCallTimeout = absl::Seconds(130);
  std::unique_ptr<Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<RoomserverClient> NewGrpcRoomserverClient(std::shared_ptr<grpc::Channel> channel,
                                                          absl::Duration timeout) {
  return std::make_unique<GrpcRoomserverClient>(std::move(channel), timeout);
}

}  // namespace periscope::gateway
