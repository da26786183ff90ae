#include "pkg/matrix/history_visibility.h"

namespace periscope::matrix {

HistoryVisibility ParseHistoryVisibility(absl::string_view value) {
  if (value == "world_readable") return HistoryVisibility::kWorldReadable;
  if (value == "shared" || value.empty()) return HistoryVisibility::kShared;
  if (value == "invited") return HistoryVisibility::kInvited;
  return HistoryVisibility::kJoined;
}

MembershipState ParseMembershipState(absl::string_view m) {
  if (m == "join") return MembershipState::kJoin;
  if (m == "invite") return MembershipState::kInvite;
  if (m == "leave") return MembershipState::kLeave;
  if (m == "ban") return MembershipState::kBan;
  if (m == "knock") return MembershipState::kKnock;
  return MembershipState::kNone;
}

bool UserMaySeeEvent(HistoryVisibility at_event, MembershipState membership_then,
                     bool joins_later) {
  if (at_event == HistoryVisibility::kWorldReadable) return true;
  if (membership_then == MembershipState::kJoin) return true;
  switch (at_event) {
    case HistoryVisibility::kShared:
      // Everything is visible to those who join later, even events from before they joined.
      return joins_later;
    case HistoryVisibility::kInvited:
      return membership_then == MembershipState::kInvite;
    default:
      return false;
  }
}

}  // namespace periscope::matrix
