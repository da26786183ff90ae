#include "internal/syncapi/sync/visibility.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {
namespace {

using matrix::HistoryVisibility;
using matrix::MembershipState;

// Lower is more permissive.
int Openness(HistoryVisibility v) {
  switch (v) {
    case HistoryVisibility::kWorldReadable:
      return 0;
    case HistoryVisibility::kShared:
      return 1;
    case HistoryVisibility::kInvited:
      return 2;
    default:
      return 3;
  }
}

// The value in force just before `pos` in a (pos, value) history sorted by pos; `none` if none.
template <typename T>
T Before(const std::vector<std::pair<int64_t, T>>& history, int64_t pos, T none) {
  auto it = std::lower_bound(history.begin(), history.end(), pos,
                             [](const auto& entry, int64_t p) { return entry.first < p; });
  return it == history.begin() ? none : std::prev(it)->second;
}

}  // namespace

absl::StatusOr<std::vector<std::pair<int64_t, HistoryVisibility>>> RoomVisibility::LoadVisibility(
    SyncStore& store, absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<SyncEvent> changes,
                             store.StateHistory(room_id, "m.room.history_visibility", ""));
  std::vector<std::pair<int64_t, HistoryVisibility>> out;
  for (const SyncEvent& e : changes) {
    absl::StatusOr<matrix::Json> pdu = matrix::ParseJson(e.event_json);
    // An unreadable event counts as the most private setting: never expose history by accident.
    std::string value =
        pdu.ok() ? matrix::StringField(matrix::ContentOf(*pdu), "history_visibility") : "joined";
    out.emplace_back(e.pos, matrix::ParseHistoryVisibility(value));
  }
  return out;
}

absl::StatusOr<RoomVisibility> RoomVisibility::ForUser(SyncStore& store, absl::string_view room_id,
                                                       absl::string_view user_id) {
  RoomVisibility v(std::string(user_id), /*non_member=*/false);
  PERISCOPE_ASSIGN_OR_RETURN(v.visibility_, LoadVisibility(store, room_id));
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<SyncEvent> memberships,
                             store.StateHistory(room_id, "m.room.member", user_id));
  for (const SyncEvent& e : memberships) {
    v.membership_.emplace_back(e.pos, matrix::ParseMembershipState(e.membership));
  }
  return v;
}

absl::StatusOr<RoomVisibility> RoomVisibility::ForNonMember(SyncStore& store,
                                                            absl::string_view room_id) {
  RoomVisibility v("", /*non_member=*/true);
  PERISCOPE_ASSIGN_OR_RETURN(v.visibility_, LoadVisibility(store, room_id));
  return v;
}

bool RoomVisibility::EverJoined() const {
  return std::any_of(membership_.begin(), membership_.end(),
                     [](const auto& entry) { return entry.second == MembershipState::kJoin; });
}

HistoryVisibility RoomVisibility::Now() const {
  return visibility_.empty() ? HistoryVisibility::kShared : visibility_.back().second;
}

HistoryVisibility RoomVisibility::VisibilityAt(int64_t pos) const {
  HistoryVisibility before = Before(visibility_, pos, HistoryVisibility::kShared);
  auto changed = std::find_if(visibility_.begin(), visibility_.end(),
                              [pos](const auto& entry) { return entry.first == pos; });
  if (changed != visibility_.end() && Openness(changed->second) < Openness(before)) {
    return changed->second;
  }
  return before;
}

bool RoomVisibility::MaySee(const SyncEvent& event) const {
  if (!non_member_ && event.type == "m.room.member" && event.state_key == user_id_) return true;
  const HistoryVisibility at_event = VisibilityAt(event.pos);
  if (non_member_) return matrix::NonMemberMaySeeEvent(at_event);
  const MembershipState then = Before(membership_, event.pos, MembershipState::kNone);
  const bool joins_later =
      std::any_of(membership_.begin(), membership_.end(), [&](const auto& entry) {
        return entry.first > event.pos && entry.second == MembershipState::kJoin;
      });
  return matrix::UserMaySeeEvent(at_event, then, joins_later);
}

std::vector<SyncEvent> RoomVisibility::Filter(std::vector<SyncEvent> events) const {
  events.erase(std::remove_if(events.begin(), events.end(),
                              [this](const SyncEvent& e) { return !MaySee(e); }),
               events.end());
  return events;
}

absl::StatusOr<RoomVisibility> ReadableBy(SyncStore& store, absl::string_view room_id,
                                          absl::string_view user_id) {
  PERISCOPE_ASSIGN_OR_RETURN(RoomVisibility view, RoomVisibility::ForUser(store, room_id, user_id));
  if (!view.EverMember() && view.Now() != HistoryVisibility::kWorldReadable) {
    return MatrixError(absl::StatusCode::kPermissionDenied, matrix::errcode::kForbidden,
                       absl::StrCat(user_id, " is not in room ", room_id));
  }
  return view;
}

absl::StatusOr<SyncEvent> VisibleEvent(SyncStore& store, const RoomVisibility& view,
                                       absl::string_view room_id, absl::string_view event_id) {
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<SyncEvent> event, store.EventInRoom(room_id, event_id));
  if (!event || !view.MaySee(*event)) {
    return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound, "Event not found");
  }
  return *std::move(event);
}

}  // namespace periscope::syncapi
