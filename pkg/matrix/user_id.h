#pragma once
// User identifiers: @localpart:server_name (client-server spec, "User Identifiers").

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope::matrix {

// The longest user id allowed, in bytes, including the sigil and the server name.
inline constexpr size_t kMaxUserIdBytes = 255;

// Checks a localpart for a new account: non-empty, only [a-z0-9._=-/+], and short enough that
// "@localpart:server_name" fits in 255 bytes. Errors carry M_INVALID_USERNAME.
absl::Status ValidateNewLocalpart(absl::string_view localpart, absl::string_view server_name);

// "@" + localpart + ":" + server_name.
std::string MakeUserId(absl::string_view localpart, absl::string_view server_name);

struct UserIdParts {
  std::string localpart;
  std::string server_name;
};

// Splits "@localpart:server" (the server may contain ':' for a port). Errors carry M_INVALID_PARAM.
absl::StatusOr<UserIdParts> ParseUserId(absl::string_view user_id);

}  // namespace periscope::matrix
