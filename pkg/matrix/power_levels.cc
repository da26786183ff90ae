#include "pkg/matrix/power_levels.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

absl::Status Invalid(absl::string_view what) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                     absl::StrCat("m.room.power_levels: ", what));
}

absl::StatusOr<int64_t> ParseLevel(const Json& value, int room_version, absl::string_view name) {
  if (value.is_number_integer()) return value.get<int64_t>();
  int64_t level = 0;
  if (room_version < 10 && value.is_string() &&
      absl::SimpleAtoi(value.get<std::string>(), &level) && level <= kMaxSafeInteger &&
      level >= -kMaxSafeInteger) {
    return level;
  }
  return Invalid(absl::StrCat(name, " is not an integer"));
}

absl::Status ParseLevelMap(const Json& content, absl::string_view key, int room_version,
                           bool keys_are_user_ids,
                           std::map<std::string, int64_t, std::less<>>* out) {
  auto it = content.find(std::string(key));
  if (it == content.end()) return absl::OkStatus();
  if (!it->is_object()) return Invalid(absl::StrCat(key, " is not an object"));
  for (const auto& [name, value] : it->items()) {
    if (keys_are_user_ids && !ParseSigilId(name, '@').ok()) {
      return Invalid(absl::StrCat(key, ": \"", name, "\" is not a user id"));
    }
    PERISCOPE_ASSIGN_OR_RETURN(int64_t level,
                               ParseLevel(value, room_version, absl::StrCat(key, ".", name)));
    (*out)[name] = level;
  }
  return absl::OkStatus();
}

}  // namespace

int64_t PowerLevels::UserLevel(absl::string_view user_id) const {
  for (const std::string& creator : creators) {
    if (creator == user_id) return kCreatorLevel;
  }
  auto it = users.find(user_id);
  return it == users.end() ? users_default : it->second;
}

int64_t PowerLevels::EventLevel(absl::string_view type, bool is_state) const {
  auto it = events.find(type);
  if (it != events.end()) return it->second;
  return is_state ? state_default : events_default;
}

absl::StatusOr<PowerLevels> ParsePowerLevels(const Json& content, int room_version) {
  if (!content.is_object()) return Invalid("content is not an object");
  PowerLevels levels;
  for (const auto& [key, field] : kPowerLevelScalars) {
    auto it = content.find(key);
    if (it == content.end()) continue;
    PERISCOPE_ASSIGN_OR_RETURN(levels.*field, ParseLevel(*it, room_version, key));
  }
  PERISCOPE_RETURN_IF_ERROR(ParseLevelMap(content, "events", room_version, false, &levels.events));
  PERISCOPE_RETURN_IF_ERROR(ParseLevelMap(content, "users", room_version, true, &levels.users));
  PERISCOPE_RETURN_IF_ERROR(
      ParseLevelMap(content, "notifications", room_version, false, &levels.notifications));
  return levels;
}

PowerLevels PowerLevelsWithoutEvent(absl::string_view creator) {
  PowerLevels levels;
  levels.state_default = 0;
  levels.users[std::string(creator)] = 100;
  return levels;
}

}  // namespace periscope::matrix
