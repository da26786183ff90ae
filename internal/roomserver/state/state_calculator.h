#pragma once
// The state at events, as state groups: the resolution where branches meet and the state after a
// state event, each stored as a delta on the closest group that already exists (or whole, every
// kMaxStateDeltaHops deltas). The rules of which state an event gets (its prev events', a
// rejected event's before-state as its after-state) are the callers'; this is the arithmetic.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/roomserver/storage/state_group_store.h"
#include "pkg/matrix/state_resolution.h"

namespace periscope::roomserver {

// What changes from state `from` to state `to` (keys whose event differs, and keys removed).
StateDelta StateDifference(const matrix::StateMap& from, const matrix::StateMap& to);

class StateCalculator {
 public:
  // `events` finds the events resolution reads (the room's stored events).
  StateCalculator(StateGroupStore& groups, matrix::ResolvableEvents& events, std::string room_id,
                  int room_version)
      : groups_(groups), events_(events), room_id_(std::move(room_id)), version_(room_version) {}

  // The group holding the resolution of the states of `groups` (the states after an event's prev
  // events, or after the room's forward extremities). With one distinct group, that group; with
  // none, the empty state. A result equal to an input reuses the input's group.
  absl::StatusOr<int64_t> Resolve(const std::vector<int64_t>& groups);
  // The group after `event_id` takes `key` on top of `before`.
  absl::StatusOr<int64_t> After(int64_t before, const matrix::StateKey& key,
                                const std::string& event_id);
  // What changes from group `from`'s state to group `to`'s.
  absl::StatusOr<StateDelta> Difference(int64_t from, int64_t to);
  // The group's state map (read once per calculator).
  absl::StatusOr<const matrix::StateMap*> State(int64_t group);

 private:
  // Stores `delta` on `base`, or the whole resulting state when `base` is kMaxStateDeltaHops
  // deltas from a snapshot already.
  absl::StatusOr<int64_t> Store(int64_t base, const StateDelta& delta);

  StateGroupStore& groups_;
  matrix::ResolvableEvents& events_;
  std::string room_id_;
  int version_;
  std::map<int64_t, matrix::StateMap> states_;
};

}  // namespace periscope::roomserver
