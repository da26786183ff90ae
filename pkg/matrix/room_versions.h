#pragma once
// The room versions this server takes part in (ParseRoomVersion accepts exactly these), and how a
// server says so when it asks another for a room (make_join, PUT /peek: ?ver=4&ver=5&...).

#include <string>

#include "absl/strings/str_cat.h"

namespace periscope::matrix {

inline constexpr int kMinSupportedRoomVersion = 4;
inline constexpr int kMaxSupportedRoomVersion = 12;

// "?ver=4&ver=5&...&ver=12", to append to a request target that has no query yet.
inline std::string SupportedRoomVersionsQuery() {
  std::string out;
  for (int v = kMinSupportedRoomVersion; v <= kMaxSupportedRoomVersion; ++v) {
    absl::StrAppend(&out, v == kMinSupportedRoomVersion ? "?" : "&", "ver=", v);
  }
  return out;
}

}  // namespace periscope::matrix
