#pragma once
// The m.room.power_levels content as the authorization rules read it (client-server spec
// "m.room.power_levels", server-server "Authorization rules").

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::matrix {

struct PowerLevels {
  // Room version 12's "infinitely high" level of the room's creators, as Synapse and
  // gomatrixserverlib encode it: one more than the largest level a power_levels event can hold.
  static constexpr int64_t kCreatorLevel = int64_t{1} << 53;

  int64_t ban = 50;
  int64_t kick = 50;
  int64_t redact = 50;
  int64_t invite = 0;
  int64_t events_default = 0;
  int64_t state_default = 50;
  int64_t users_default = 0;
  std::map<std::string, int64_t, std::less<>> events;
  std::map<std::string, int64_t, std::less<>> users;
  std::map<std::string, int64_t, std::less<>> notifications;
  // Room version 12: the room's creators, whose level is kCreatorLevel whatever `users` says.
  std::vector<std::string> creators;

  int64_t UserLevel(absl::string_view user_id) const;
  // The level needed to send an event of `type`; state events fall back to state_default.
  int64_t EventLevel(absl::string_view type, bool is_state) const;
};

// The single-integer levels by their content key.
struct PowerLevelScalar {
  const char* key;
  int64_t PowerLevels::*field;
};
inline constexpr PowerLevelScalar kPowerLevelScalars[] = {
    {"users_default", &PowerLevels::users_default},
    {"events_default", &PowerLevels::events_default},
    {"state_default", &PowerLevels::state_default},
    {"ban", &PowerLevels::ban},
    {"redact", &PowerLevels::redact},
    {"kick", &PowerLevels::kick},
    {"invite", &PowerLevels::invite}};

// Parses a power_levels content. Room versions 10+ require every level to be a JSON integer; older
// versions also accept strings holding an integer (the legacy rules), as Synapse does. `users`
// keys must be valid user ids. Errors are INVALID_ARGUMENT with the message
// "m.room.power_levels: <key>...", naming the offending key first.
absl::StatusOr<PowerLevels> ParsePowerLevels(const Json& content, int room_version);

// The levels in force in a room without an m.room.power_levels event: the creator has 100,
// everyone else 0, and state events need 0.
PowerLevels PowerLevelsWithoutEvent(absl::string_view creator);

}  // namespace periscope::matrix
