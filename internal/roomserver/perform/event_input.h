#pragma once
// InputRoomEvents: events other servers sent, after federationapi's stateless checks (format,
// signatures, content hashes). Each event, in the order given, inside its room's write
// transaction (server-server spec "Checks performed on receipt of a PDU", checks 4-6):
//  4. the auth rules against its own auth_events (all must be stored, none rejected) → rejected;
//  5. the auth rules against the state before it (the resolution of its prev events' states)
//     → rejected;
//  6. (new events only) the auth rules against the room's current state → soft-failed.
// A rejected event is still stored (others may name it as a prev event; its state after is its
// state before); a soft-failed one is stored but kept out of timelines and forward extremities.
// An event whose prev or auth events are unknown is not processed at all: the caller fetches
// them (oldest first) and inputs it again. Outliers are checked against their auth events only
// and get no state.

#include <string>

#include "absl/status/statusor.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::roomserver {

class EventInput {
 public:
  explicit EventInput(RoomStore& store) : store_(store) {}

  // Per-event outcomes are in the response; an error status only for a storage failure.
  absl::StatusOr<v1::InputRoomEventsResponse> Input(const v1::InputRoomEventsRequest& request);

 private:
  RoomStore& store_;
};

}  // namespace periscope::roomserver
