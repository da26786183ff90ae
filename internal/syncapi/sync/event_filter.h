#pragma once
// The RoomEventFilter / StateFilter fields /sync honours (client-server spec "Filtering"):
// types / not_types and senders / not_senders (with "*" wildcards in types), and
// lazy_load_members for state.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::syncapi {

struct EventFilter {
  // nullopt: every type / sender; an empty list: none.
  std::optional<std::vector<std::string>> types;
  std::vector<std::string> not_types;
  std::optional<std::vector<std::string>> senders;
  std::vector<std::string> not_senders;
  // State only: member events just for the timeline's senders (and the syncing user).
  bool lazy_load_members = false;

  bool Allows(absl::string_view type, absl::string_view sender) const;
};

// Parses one filter object found at `where` (for error messages); 400 M_INVALID_PARAM when a
// field has the wrong shape.
absl::StatusOr<EventFilter> ParseEventFilter(const matrix::Json& object, absl::string_view where);

// "*" matches any run of characters, everything else itself.
bool MatchesTypePattern(absl::string_view pattern, absl::string_view type);

}  // namespace periscope::syncapi
