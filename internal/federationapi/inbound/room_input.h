#pragma once
// What the federationapi needs of the roomserver to take events in: a room's version,
// InputRoomEvents, the server ACL, make_join's template, out-of-band memberships (invites) and
// inbound peeks' snapshots. Over
// gRPC in the service; faked in unit tests.

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "periscope/roomserver/v1/roomserver.pb.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

class RoomInput {
 public:
  virtual ~RoomInput() = default;
  // The room's version, or nullopt if the room is unknown here.
  virtual absl::StatusOr<std::optional<int>> RoomVersion(const std::string& room_id) = 0;
  virtual absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest& request) = 0;
  // The content of the room's current m.room.server_acl, or null if it has none.
  virtual absl::StatusOr<matrix::Json> ServerAcl(const std::string& room_id) = 0;
  // The membership event `user_id` (of another server) would send: NOT_FOUND for an unknown
  // room, PERMISSION_DENIED when the auth rules refuse it now.
  virtual absl::StatusOr<roomserver::v1::QueryMembershipTemplateResponse> MembershipTemplate(
      const std::string& room_id, const std::string& user_id, const std::string& membership) {
    return absl::UnimplementedError("membership templates are not available");
  }
  // Whether the room has a state here (its create event): a room known only from an invite has
  // none, and nothing is fetched for it.
  virtual absl::StatusOr<bool> HasState(const std::string& room_id) { return true; }
  // Starts (or renews) another server's peek and snapshots the room (roomserver
  // PerformInboundPeek; its errors are the /peek endpoint's).
  virtual absl::StatusOr<roomserver::v1::PerformInboundPeekResponse> InboundPeek(
      const roomserver::v1::PerformInboundPeekRequest& request) {
    return absl::UnimplementedError("inbound peeks are not available");
  }
  // Ends another server's peek at the current place of the room's stream, registered or not yet
  // (roomserver PerformRetireInboundPeek): NOT_FOUND for an unknown room.
  virtual absl::Status RetireInboundPeek(
      const roomserver::v1::PerformRetireInboundPeekRequest& request) {
    return absl::UnimplementedError("inbound peeks are not available");
  }
  // Records a local user's invite or leave in a room this server is not in (roomserver
  // InputOutOfBandMembership): PERMISSION_DENIED when the room, which we are in, refuses it.
  virtual absl::Status OutOfBandMembership(
      const roomserver::v1::InputOutOfBandMembershipRequest& request) {
    return absl::UnimplementedError("out-of-band memberships are not available");
  }
};

std::unique_ptr<RoomInput> NewGrpcRoomInput(roomserver::v1::RoomserverService::StubInterface& stub,
                                            absl::Duration timeout);

}  // namespace periscope::federationapi
