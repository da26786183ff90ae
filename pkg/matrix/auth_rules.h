#pragma once
// The authorization rules for room versions 4-12 (server-server spec "Authorization rules", as
// written for room version 10, with the knock rules from v7, restricted joins from v8,
// knock_restricted and integer power levels from v10, v11's creator = create event sender, and
// v12's create event implied by the room id, additional_creators and creators' infinite power).
// Rule numbers in refusals follow the room version 10 list; v12-only rules say "(v12)".
//
// A pure function over (event, auth state): no storage, no clock, no network. Signatures are
// verified on receipt, before these rules run; rule 4.2 only asks whether the authorising
// server's signature is present.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/power_levels.h"

namespace periscope::matrix {

// PERMISSION_DENIED with M_FORBIDDEN and the message "auth rule <rule>: <detail>", where <rule>
// is the number of the rule in the spec's room version 10 list (e.g. "4.3.3").
absl::Status AuthFailure(absl::string_view rule, absl::string_view detail);

// Is `event` allowed given `auth`, the state before it (its auth events, or the room's current
// state)? OK if so, else the AuthFailure naming the first rule that refused it.
// Third-party invites (rule 4.4.1) are refused: Periscope does not support them yet.
absl::Status CheckAuthRules(const Json& event, const AuthEvents& auth, int room_version);

// The power levels in force in `state` (its m.room.power_levels, or the creator-only defaults
// without one); from room version 12 the creators' level is infinite whatever the event says.
// Every permission check outside the auth rules (the directory, redactions) reads levels here.
absl::StatusOr<PowerLevels> PowerLevelsIn(const AuthEvents& state, int room_version);

// The room's creator: content.creator before room version 11, the create event's sender from 11.
std::string RoomCreator(const Json& create_event, int room_version);
// The room's creators: RoomCreator, and from room version 12 content.additional_creators too.
// In room version 12 each has an infinitely high power level (PowerLevels::kCreatorLevel).
std::vector<std::string> RoomCreators(const Json& create_event, int room_version);

// Client-server redactions: a user may redact their own events, or anyone's with at least the
// "redact" power level. PERMISSION_DENIED with M_FORBIDDEN otherwise.
absl::Status CheckClientRedaction(absl::string_view redactor, absl::string_view original_sender,
                                  const AuthEvents& auth, int room_version);

// Server-server redactions (room versions 3+): an accepted redaction takes effect on its target
// only if the redactor has the "redact" level or is on the same server as the target's sender.
bool RedactionTakesEffect(absl::string_view redactor, absl::string_view original_sender,
                          const AuthEvents& auth, int room_version);

}  // namespace periscope::matrix
