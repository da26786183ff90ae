#include "internal/roomserver/state/room_dag.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

RoomDag::RoomDag(RoomWriteTxn& txn, std::string room_id)
    : txn_(txn),
      room_id_(std::move(room_id)),
      events_(txn),
      calculator_(txn.StateGroups(), events_, room_id_, txn.room_version()) {}

absl::StatusOr<int64_t> RoomDag::CurrentStateGroup() {
  if (!current_) {
    PERISCOPE_ASSIGN_OR_RETURN(int64_t group, txn_.CurrentStateGroup());
    current_ = group;
  }
  return *current_;
}

absl::StatusOr<int64_t> RoomDag::StateBefore(const std::vector<std::string>& prev_event_ids) {
  std::vector<int64_t> groups;
  for (const std::string& prev : prev_event_ids) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventPlace> place, txn_.Place(prev));
    if (!place || place->outlier) {
      return absl::FailedPreconditionError(absl::StrCat("the state after prev event ", prev,
                                                        " of room ", room_id_, " is not known",
                                                        place ? " (it is an outlier)" : ""));
    }
    groups.push_back(place->state_after);
  }
  absl::StatusOr<int64_t> group = calculator_.Resolve(groups);
  PERISCOPE_RETURN_IF_ERROR(CheckEventsRead());
  return group;
}

absl::StatusOr<int64_t> RoomDag::StateBeforeAcrossGap(
    const std::vector<std::string>& prev_event_ids, int64_t given) {
  std::vector<int64_t> groups = {given};
  for (const std::string& prev : prev_event_ids) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventPlace> place, txn_.Place(prev));
    if (place && !place->outlier) groups.push_back(place->state_after);
  }
  if (groups.size() == 1) return given;
  absl::StatusOr<int64_t> group = calculator_.Resolve(groups);
  PERISCOPE_RETURN_IF_ERROR(CheckEventsRead());
  return group;
}

absl::StatusOr<int64_t> RoomDag::StoreState(const matrix::StateMap& state) {
  if (state.empty()) return kEmptyStateGroup;
  StateDelta whole;
  for (const auto& [key, id] : state) whole.emplace(key, id);
  return txn_.StateGroups().StoreGroup(kEmptyStateGroup, whole);
}

absl::StatusOr<matrix::AuthEvents> RoomDag::StateEvents(int64_t group,
                                                        const std::vector<matrix::StateKey>& keys) {
  PERISCOPE_ASSIGN_OR_RETURN(const matrix::StateMap* state, calculator_.State(group));
  matrix::AuthEvents out;
  for (const matrix::StateKey& key : keys) {
    auto it = state->find(key);
    if (it == state->end() || out.Find(key.first, key.second) != nullptr) continue;
    const matrix::ResolvableEvent* event = events_.Find(it->second);
    PERISCOPE_RETURN_IF_ERROR(CheckEventsRead());
    if (event == nullptr) {
      return absl::InternalError(absl::StrCat("state event ", it->second, " is not stored"));
    }
    PERISCOPE_RETURN_IF_ERROR(out.Add(it->second, event->event));
  }
  return out;
}

absl::StatusOr<CurrentStateChange> RoomDag::Append(AcceptedEvent& event) {
  EventPlace& place = event.place;
  if (place.outlier) place.state_before = kEmptyStateGroup;
  place.state_after = place.state_before;
  PERISCOPE_ASSIGN_OR_RETURN(int64_t old_current, CurrentStateGroup());
  PERISCOPE_RETURN_IF_ERROR(txn_.AppendEvent(event));
  events_.Forget(event.event_id);
  if (!place.outlier && event.state_key && !place.rejected) {
    // The group names the event's row, so it follows the row.
    PERISCOPE_ASSIGN_OR_RETURN(
        place.state_after,
        calculator_.After(place.state_before, {event.type, *event.state_key}, event.event_id));
    PERISCOPE_RETURN_IF_ERROR(txn_.SetStateAfter(event.event_id, place.state_after));
  }
  CurrentStateChange change;
  if (place.outlier || place.rejected || place.soft_failed) return change;

  PERISCOPE_ASSIGN_OR_RETURN(std::vector<matrix::PrevEvent> extremities, txn_.ForwardExtremities());
  for (const matrix::PrevEvent& extremity : extremities) {
    change.extremities.push_back(extremity.event_id);
  }
  int64_t new_current = place.state_after;
  if (extremities.size() != 1 || extremities.front().event_id != event.event_id) {
    std::vector<std::string> ids;
    for (const matrix::PrevEvent& extremity : extremities) ids.push_back(extremity.event_id);
    PERISCOPE_ASSIGN_OR_RETURN(new_current, StateBefore(ids));
  }
  change.current_group = new_current;
  if (new_current == old_current) return change;

  if (old_current == place.state_before && new_current == place.state_after && event.state_key) {
    // The common case (one extremity, extended by a state event): one key changed, and the old
    // entry is one row of the current-state table, not a whole state to load.
    matrix::StateKey key(event.type, *event.state_key);
    PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents replaced, txn_.State({key}));
    if (const matrix::AuthEvents::Entry* old = replaced.Find(key.first, key.second)) {
      change.removed_event_ids.push_back(old->event_id);
    }
    change.delta.emplace(key, event.event_id);
  } else {
    PERISCOPE_ASSIGN_OR_RETURN(change.delta, calculator_.Difference(old_current, new_current));
    PERISCOPE_ASSIGN_OR_RETURN(const matrix::StateMap* old_state, calculator_.State(old_current));
    for (const auto& [key, id] : change.delta) {
      if (auto it = old_state->find(key); it != old_state->end()) {
        change.removed_event_ids.push_back(it->second);
      }
    }
  }
  std::map<std::string, std::string> memberships;
  for (const auto& [key, id] : change.delta) {
    if (!id || key.first != "m.room.member") continue;
    if (*id == event.event_id) {
      memberships[*id] = event.membership;
    } else if (const matrix::ResolvableEvent* member = events_.Find(*id)) {
      memberships[*id] = matrix::StringField(matrix::ContentOf(member->event), "membership");
    }
  }
  PERISCOPE_RETURN_IF_ERROR(CheckEventsRead());
  PERISCOPE_RETURN_IF_ERROR(txn_.SetCurrentState(new_current, change.delta, memberships));
  current_ = new_current;
  return change;
}

}  // namespace periscope::roomserver
