#pragma once
// Who may see an event, from the room's m.room.history_visibility at that event (client-server
// spec "Room History Visibility"). Peeking is allowed only where the answer for a non-member is
// yes, i.e. world_readable.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope::matrix {

enum class HistoryVisibility { kWorldReadable, kShared, kInvited, kJoined };

// Parses the content value. A room without the state event is "shared"; an unknown value is
// treated as "joined", the most private setting, so that a typo never exposes history.
HistoryVisibility ParseHistoryVisibility(absl::string_view value);

enum class MembershipState { kNone, kJoin, kInvite, kLeave, kBan, kKnock };

// Parses a member event's content.membership ("" or unknown: kNone).
MembershipState ParseMembershipState(absl::string_view membership);

// May a user see an event? `at_event` is the visibility in force at the event, `membership_then`
// the user's membership at the event, and `joins_later` whether the user joins the room at some
// point after the event (the spec's rule for "shared").
bool UserMaySeeEvent(HistoryVisibility at_event, MembershipState membership_then, bool joins_later);

// May someone who is not a member at all (a peeking device, a peeking server) see it?
inline bool NonMemberMaySeeEvent(HistoryVisibility at_event) {
  return at_event == HistoryVisibility::kWorldReadable;
}

}  // namespace periscope::matrix
