#pragma once
// Another server's peek into one of our rooms (MSC2444), as the roomserver starts it: the checks
// that need the room (its version against the peeker's ?ver=, world_readable and unencrypted),
// and the snapshot of the room taken in the room's write transaction, in which new_inbound_peek
// also enters the output stream. That one place in the room's ordered events is what makes the
// relay gap-free: the federationsender relays every event after it and none before it, and the
// snapshot holds exactly the events before it.
//
// Renewal, DELETE and eviction are the federationsender's (it holds the registry of peeks); a
// repeated PUT comes here again, which renews the peek and answers the snapshot again. A DELETE
// the registry could not match comes here too (Retire), in case the peek is not registered yet.

#include <string>

#include "absl/status/statusor.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"
#include "pkg/clock/clock.h"

namespace periscope::roomserver {

class InboundPeeks {
 public:
  InboundPeeks(RoomStore& store, const Clock& clock, std::string server_name)
      : store_(store), clock_(clock), server_name_(std::move(server_name)) {}

  // 404 M_NOT_FOUND for a room unknown here or none of our users is in; 400 M_UNRECOGNIZED for a
  // bad peek id; 400 M_INCOMPATIBLE_ROOM_VERSION when the room's version is not offered (no
  // versions offered means version 1 only, as for make_join); 403 M_FORBIDDEN unless world_readable
  // and unencrypted. The answer carries the room version, the latest event and the state after each
  // forward extremity (common part and per-extremity rest), as event ids.
  absl::StatusOr<v1::PerformInboundPeekResponse> Peek(const v1::PerformInboundPeekRequest& request);

  // Writes retire_inbound_peek at the current place of the room's stream, for a DELETE of a peek
  // the federationsender did not know: if its new_inbound_peek is still ahead of it in the
  // stream, the peek ends as soon as it is registered. 404 M_NOT_FOUND for an unknown room.
  absl::Status Retire(const v1::PerformRetireInboundPeekRequest& request);

 private:
  RoomStore& store_;
  const Clock& clock_;
  const std::string server_name_;
};

}  // namespace periscope::roomserver
