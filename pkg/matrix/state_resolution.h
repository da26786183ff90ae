#pragma once
// State resolution: the room state where branches of a room's DAG meet. Version 2 for room
// versions 2-11 and version 2.1 for room version 12 (server-server spec "Room State Resolution",
// rooms/v2 and rooms/v12), as a pure function over events: no storage, no clock, no network.
//
// Where the spec leaves room, this follows Synapse, which most of the federation runs, so that
// Periscope resolves a fork to the state its peers resolve it to (docs/state-resolution.md):
//  - each state map's own events count as part of its full auth chain, so an unconflicted event
//    never enters the auth difference;
//  - a power event's auth chain is followed only through events of the full conflicted set;
//  - an event rejected earlier is never admitted by the iterative auth checks;
//  - an event missing from `events` is left out (the caller fetches what it can first).

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::matrix {

// (type, state_key) -> event id.
using StateMap = std::map<StateKey, std::string>;

// An event as state resolution reads it.
struct ResolvableEvent {
  // The PDU (type, state_key, sender, content, auth_events, origin_server_ts, room_id).
  Json event;
  // Rejected on receipt: never used as an auth event, never admitted to the resolved state.
  bool rejected = false;
};

// Where the resolver finds the events it needs: those the state maps name and their auth chains.
class ResolvableEvents {
 public:
  virtual ~ResolvableEvents() = default;
  // The event, or nullptr if it is unknown. The pointer stays valid until ResolveState returns.
  virtual const ResolvableEvent* Find(absl::string_view event_id) = 0;
};

// The resolution of `states` (the states after each prev event of an event, or at each forward
// extremity) in room `room_id` of `room_version`. Independent of the order of `states`. One map
// is returned as it is; no maps give the empty state. FAILED_PRECONDITION if an event the
// resolution reads belongs to another room.
absl::StatusOr<StateMap> ResolveState(absl::string_view room_id, int room_version,
                                      const std::vector<StateMap>& states,
                                      ResolvableEvents& events);

}  // namespace periscope::matrix
