#include "internal/roomserver/state/state_calculator.h"

#include <optional>
#include <set>

#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

StateDelta StateDifference(const matrix::StateMap& from, const matrix::StateMap& to) {
  StateDelta delta;
  for (const auto& [key, id] : to) {
    auto it = from.find(key);
    if (it == from.end() || it->second != id) delta.emplace(key, id);
  }
  for (const auto& [key, id] : from) {
    if (!to.contains(key)) delta.emplace(key, std::nullopt);
  }
  return delta;
}

absl::StatusOr<const matrix::StateMap*> StateCalculator::State(int64_t group) {
  if (auto it = states_.find(group); it != states_.end()) return &it->second;
  PERISCOPE_ASSIGN_OR_RETURN(matrix::StateMap state, groups_.LoadState(group));
  return &states_.emplace(group, std::move(state)).first->second;
}

absl::StatusOr<int64_t> StateCalculator::Store(int64_t base, const StateDelta& delta) {
  PERISCOPE_ASSIGN_OR_RETURN(int hops, groups_.Hops(base));
  if (base == kEmptyStateGroup || hops < kMaxStateDeltaHops) {
    return groups_.StoreGroup(base, delta);
  }
  PERISCOPE_ASSIGN_OR_RETURN(const matrix::StateMap* state, State(base));
  StateDelta whole;
  for (const auto& [key, id] : *state) whole.emplace(key, id);
  for (const auto& [key, id] : delta) {
    if (id) {
      whole.insert_or_assign(key, id);
    } else {
      whole.erase(key);
    }
  }
  return groups_.StoreGroup(kEmptyStateGroup, whole);
}

absl::StatusOr<int64_t> StateCalculator::After(int64_t before, const matrix::StateKey& key,
                                               const std::string& event_id) {
  return Store(before, StateDelta{{key, event_id}});
}

absl::StatusOr<StateDelta> StateCalculator::Difference(int64_t from, int64_t to) {
  if (from == to) return StateDelta();
  PERISCOPE_ASSIGN_OR_RETURN(const matrix::StateMap* from_state, State(from));
  PERISCOPE_ASSIGN_OR_RETURN(const matrix::StateMap* to_state, State(to));
  return StateDifference(*from_state, *to_state);
}

absl::StatusOr<int64_t> StateCalculator::Resolve(const std::vector<int64_t>& groups) {
  std::set<int64_t> distinct(groups.begin(), groups.end());
  if (distinct.empty()) return kEmptyStateGroup;
  if (distinct.size() == 1) return *distinct.begin();
  std::vector<matrix::StateMap> states;
  for (int64_t group : distinct) {
    PERISCOPE_ASSIGN_OR_RETURN(const matrix::StateMap* state, State(group));
    states.push_back(*state);
  }
  PERISCOPE_ASSIGN_OR_RETURN(matrix::StateMap resolved,
                             matrix::ResolveState(room_id_, version_, states, events_));
  // Store the result as a delta on the input it differs least from (often a few keys).
  std::optional<int64_t> base;
  StateDelta best;
  size_t i = 0;
  for (int64_t group : distinct) {
    StateDelta delta = StateDifference(states[i++], resolved);
    if (delta.empty()) return group;
    if (!base || delta.size() < best.size()) {
      base = group;
      best = std::move(delta);
    }
  }
  PERISCOPE_ASSIGN_OR_RETURN(int64_t stored, Store(*base, best));
  states_.emplace(stored, std::move(resolved));
  return stored;
}

}  // namespace periscope::roomserver
