#pragma once
// An in-memory StateGroupStore for unit tests: groups stored as the deltas they were given, read
// by walking the chain, so tests see exactly what the PostgreSQL store would hold.

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "internal/roomserver/storage/state_group_store.h"

namespace periscope::roomserver::testing {

class FakeStateGroupStore : public StateGroupStore {
 public:
  struct Group {
    int64_t prev = kEmptyStateGroup;
    int hops = 0;
    StateDelta delta;
  };

  absl::StatusOr<matrix::StateMap> LoadState(int64_t group) override {
    ++loads;
    matrix::StateMap state;
    if (group == kEmptyStateGroup) return state;
    if (!groups_.contains(group)) return absl::NotFoundError(absl::StrCat("no group ", group));
    // Oldest delta first, so that newer entries overwrite.
    std::vector<const Group*> chain;
    for (int64_t g = group; g != kEmptyStateGroup; g = groups_.at(g).prev) {
      chain.push_back(&groups_.at(g));
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      for (const auto& [key, id] : (*it)->delta) {
        if (id) {
          state.insert_or_assign(key, *id);
        } else {
          state.erase(key);
        }
      }
    }
    return state;
  }

  absl::StatusOr<int> Hops(int64_t group) override {
    if (group == kEmptyStateGroup) return 0;
    if (!groups_.contains(group)) return absl::NotFoundError(absl::StrCat("no group ", group));
    return groups_.at(group).hops;
  }

  absl::StatusOr<int64_t> StoreGroup(int64_t prev, const StateDelta& delta) override {
    if (prev != kEmptyStateGroup && !groups_.contains(prev)) {
      return absl::NotFoundError(absl::StrCat("no group ", prev));
    }
    Group group{prev, prev == kEmptyStateGroup ? 0 : groups_.at(prev).hops + 1, {}};
    for (const auto& [key, id] : delta) {
      if (id || prev != kEmptyStateGroup) group.delta.emplace(key, id);
    }
    groups_.emplace(++last_, std::move(group));
    return last_;
  }

  const Group& group(int64_t id) const { return groups_.at(id); }
  size_t size() const { return groups_.size(); }
  int loads = 0;

 private:
  std::map<int64_t, Group> groups_;
  int64_t last_ = 0;
};

}  // namespace periscope::roomserver::testing
