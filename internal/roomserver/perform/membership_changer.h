#pragma once
// PerformMembership: join (by room id or local alias), leave, invite, kick, ban and unban in local
// rooms. Each writes one m.room.member event that pkg/matrix's auth rules must accept; a refusal
// is 403 M_FORBIDDEN with the rule's reason. A join to a room this server does not know goes
// through the RemoteJoiner (federationapi's make_join and send_join); without one it is 404
// M_NOT_FOUND.

#include "absl/status/statusor.h"
#include "internal/roomserver/perform/event_writer.h"
#include "internal/roomserver/perform/remote_joiner.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::roomserver {

class MembershipChanger {
 public:
  MembershipChanger(RoomStore& store, EventWriter& writer, RemoteJoiner* remote = nullptr)
      : store_(store), writer_(writer), remote_(remote) {}

  absl::StatusOr<v1::PerformMembershipResponse> Change(const v1::PerformMembershipRequest& request);

 private:
  // Whether a join of `room_id` must go through another server: the room is unknown here, or
  // none of our users is in it and another server can be asked.
  absl::StatusOr<bool> NeedsRemoteJoin(const std::string& room_id,
                                       const v1::PerformMembershipRequest& request);

  RoomStore& store_;
  EventWriter& writer_;
  RemoteJoiner* remote_;
};

}  // namespace periscope::roomserver
