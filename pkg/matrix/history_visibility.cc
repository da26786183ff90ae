#include "pkg/matrix/history_visibility.h"

namespace periscope::matrix {

HistoryVisibility ParseHistoryVisibility(absl::string_view value) {
  if (value == "world_readable") return HistoryVisibility::kWorldReadable;
  if (value == "shared" || value.empty()) return HistoryVisibility::kShared;
  if (value == "invited") return HistoryVisibility::kInvited;
  return HistoryVisibility::kJoined;
}

bool UserMaySeeEvent(HistoryVisibility at_event, MembershipState membership_then,
                     MembershipState membership_now) {
  if (at_event == HistoryVisibility::kWorldReadable) return true;
  if (membership_then == MembershipState::kJoin) return true;
  switch (at_event) {
    case HistoryVisibility::kShared:
      // Everything is visible to current members, even events from before they joined.
      return membership_now == MembershipState::kJoin;
    case HistoryVisibility::kInvited:
      return membership_then == MembershipState::kInvite;
    default:
      return false;
  }
}

}  // namespace periscope::matrix
