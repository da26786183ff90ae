#pragma once
// Places accepted events in a room's DAG, inside the room's write transaction: the state before
// an event (the resolution of the states after its prev events), its state after, its row and
// edges, the forward extremities, and the current state (the resolution of the extremities'
// states). The local send path and federation input both go through here, so the rules are in
// one place:
//  - a rejected state event's state after is its state before (it never enters any state);
//  - an outlier has no state and no place in the timeline;
//  - rejected, soft-failed and outlier events never become forward extremities, and never change
//    the current state.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/roomserver/state/state_calculator.h"
#include "internal/roomserver/state/stored_events.h"
#include "internal/roomserver/storage/room_store.h"
#include "pkg/matrix/auth_events.h"

namespace periscope::roomserver {

// How the room's current state changed: the new entries (and removed keys), and the event ids
// that left it.
struct CurrentStateChange {
  StateDelta delta;
  std::vector<std::string> removed_event_ids;
  // The room's forward extremities after the event (empty for an event that never becomes one).
  std::vector<std::string> extremities;
  // The room's current state group after the event (kEmptyStateGroup for an event that changes
  // nothing of it: an outlier, a rejected or soft-failed event).
  int64_t current_group = kEmptyStateGroup;
};

class RoomDag {
 public:
  RoomDag(RoomWriteTxn& txn, std::string room_id);

  // The state before an event naming `prev_event_ids`. FAILED_PRECONDITION if one is unknown to
  // this room or an outlier (its state is not known).
  absl::StatusOr<int64_t> StateBefore(const std::vector<std::string>& prev_event_ids);
  // The state before an event placed across a gap: `given` (the state another server said its
  // missing prev events led to) resolved with the states after those of `prev_event_ids` that
  // are placed here. A given state never replaces what this server knows: it is one more branch.
  absl::StatusOr<int64_t> StateBeforeAcrossGap(const std::vector<std::string>& prev_event_ids,
                                               int64_t given);
  // The events of `group`'s state at `keys` (missing keys absent), e.g. to authorise an event.
  absl::StatusOr<matrix::AuthEvents> StateEvents(int64_t group,
                                                 const std::vector<matrix::StateKey>& keys);
  // The group's whole state map.
  absl::StatusOr<const matrix::StateMap*> State(int64_t group) { return calculator_.State(group); }
  // Stores `state` whole as a new group (a state another server gave, e.g. at a join). Its events
  // must be stored.
  absl::StatusOr<int64_t> StoreState(const matrix::StateMap& state);
  // Read once per RoomDag (Append keeps it current), since a send needs it twice.
  absl::StatusOr<int64_t> CurrentStateGroup();

  // Stores `event` (its place.state_before set by the caller; state_after is set here) and moves
  // the forward extremities and the current state on. Returns how the current state changed.
  absl::StatusOr<CurrentStateChange> Append(AcceptedEvent& event);

 private:
  // Fails if a resolution read past a storage error.
  absl::Status CheckEventsRead() const { return events_.status(); }

  RoomWriteTxn& txn_;
  std::string room_id_;
  std::optional<int64_t> current_;
  StoredEvents events_;
  StateCalculator calculator_;
};

}  // namespace periscope::roomserver
