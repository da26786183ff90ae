#pragma once
// Where the roomserver keeps the state before and after every event: state groups.
//
// A state group is an immutable state map ((type, state_key) -> event id). Events with the same
// state share one group: a message event's state after is its state before; only a state event
// (or a merge of branches) makes a new group. A new group is stored as a delta on an earlier one
// (the keys that changed, including keys removed) or, every kMaxStateDeltaHops deltas, whole, so
// a state event costs one row, not a copy of the room's state (docs/state-resolution.md).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/state_resolution.h"

namespace periscope::roomserver {

// A change to a state map: each key's new event id, or nullopt where the key is removed.
using StateDelta = std::map<matrix::StateKey, std::optional<std::string>>;

// The empty state (before a room's create event, and of outliers' "no state"). Never stored.
inline constexpr int64_t kEmptyStateGroup = 0;

// A group at most this many deltas from a whole snapshot; past it the next group is whole.
// Synapse's MAX_STATE_DELTA_HOPS: reading a group walks at most this many rows of groups.
inline constexpr int kMaxStateDeltaHops = 100;

// The state groups of one room's write transaction (RoomWriteTxn::StateGroups).
class StateGroupStore {
 public:
  virtual ~StateGroupStore() = default;
  // The group's state map; empty for kEmptyStateGroup. NOT_FOUND for a group that does not exist.
  virtual absl::StatusOr<matrix::StateMap> LoadState(int64_t group) = 0;
  // How many deltas lead from `group` to a whole snapshot (0 for a snapshot and the empty state).
  virtual absl::StatusOr<int> Hops(int64_t group) = 0;
  // Stores a new group: `delta` on `prev` (its hops + 1), or with prev == kEmptyStateGroup the
  // whole state (delta's present entries; removals are meaningless there). `prev` must be a group
  // of this room (callers learn its hops first, which checks that). Every event id must be a
  // stored event (FAILED_PRECONDITION otherwise).
  virtual absl::StatusOr<int64_t> StoreGroup(int64_t prev, const StateDelta& delta) = 0;
};

}  // namespace periscope::roomserver
