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
//
// Joining a room over federation (federationapi PerformJoin) inputs the resident server's answer:
// with create_room_version set, an unknown room is created; the auth chain and the state come
// as outliers, then the join event with has_state (the state before it given, its prev events
// unknown here), checked against that state and placed as the room's forward extremity.

#include <string>

#include "absl/status/statusor.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::roomserver {

// The record of a received event, before any check placed it.
AcceptedEvent AcceptedEventOf(const matrix::Json& pdu, const std::string& event_id,
                              const std::string& canonical);

class EventInput {
 public:
  // `server_name` is ours: an input whose origin it is (an invite another server signed) is sent
  // out to the room's servers like a local event.
  EventInput(RoomStore& store, const Clock& clock, std::string server_name)
      : store_(store), clock_(clock), server_name_(std::move(server_name)) {}

  // Per-event outcomes are in the response; an error status only for a storage failure.
  absl::StatusOr<v1::InputRoomEventsResponse> Input(const v1::InputRoomEventsRequest& request);

 private:
  // The room an input event belongs to: its room_id, or for a room version 12 create event
  // (which has none) the id its hash gives; created first when the request asks for it. Empty
  // and nullopt version when the room is unknown.
  absl::StatusOr<std::pair<std::string, std::optional<int>>> RoomOf(
      const matrix::Json& pdu, const v1::InputRoomEventsRequest& request);

  RoomStore& store_;
  const Clock& clock_;
  const std::string server_name_;
};

}  // namespace periscope::roomserver
