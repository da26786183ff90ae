#pragma once
// PerformMembership: join (by room id or local alias), leave, invite, kick, ban and unban in local
// rooms. Each writes one m.room.member event that pkg/matrix's auth rules must accept; a refusal
// is 403 M_FORBIDDEN with the rule's reason. Rooms on other servers need federation (issue #5's
// peeking path builds it) and are refused with 404 M_NOT_FOUND for now.

#include "absl/status/statusor.h"
#include "internal/roomserver/perform/event_writer.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::roomserver {

class MembershipChanger {
 public:
  MembershipChanger(RoomStore& store, EventWriter& writer) : store_(store), writer_(writer) {}

  absl::StatusOr<v1::PerformMembershipResponse> Change(const v1::PerformMembershipRequest& request);

 private:
  RoomStore& store_;
  EventWriter& writer_;
};

}  // namespace periscope::roomserver
