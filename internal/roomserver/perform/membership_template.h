#pragma once
// QueryMembershipTemplate: the membership event a user of another server would send to join or
// leave one of our rooms (the resident side of make_join and make_leave). It follows the room's
// forward extremities with auth events from the state before it, like a local event, but comes
// back unsigned and without hashes: the user's server fills in its origin, signs it and sends it
// back (send_join). Refused now if the auth rules would refuse it, so that a joiner learns early.
// A join of a restricted room names which of our users vouches for it (restricted_join.h).

#include "absl/status/statusor.h"
#include "internal/roomserver/perform/event_writer.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::roomserver {

class MembershipTemplate {
 public:
  MembershipTemplate(RoomStore& store, const EventWriter& writer)
      : store_(store), writer_(writer) {}

  // NOT_FOUND (M_NOT_FOUND) for an unknown room or one none of our users is in, PERMISSION_DENIED
  // (M_FORBIDDEN) when the auth rules refuse the event against the current state (or the user is
  // in none of a restricted room's allowed rooms), INVALID_ARGUMENT for a bad user id or a
  // membership other than join and leave, or M_UNABLE_TO_AUTHORISE_JOIN.
  absl::StatusOr<v1::QueryMembershipTemplateResponse> Build(
      const v1::QueryMembershipTemplateRequest& request);

 private:
  RoomStore& store_;
  const EventWriter& writer_;
};

}  // namespace periscope::roomserver
