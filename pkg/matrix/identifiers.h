#pragma once
// Matrix identifiers beyond user ids (appendix "Identifier Grammar"): server names, room ids,
// event ids, room aliases. Every check returns INVALID_ARGUMENT with M_INVALID_PARAM naming
// what is wrong.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope::matrix {

// hostname [":" port]; hostname is a dotted-quad IPv4 literal, "[" IPv6 literal "]", or a DNS
// name of [A-Za-z0-9.-] (1-255 characters); port is 1-5 digits, at most 65535.
absl::Status ValidateServerName(absl::string_view server_name);

// Any "<sigil>localpart:server_name" identifier: room ids ("!"), room aliases ("#"), and user ids
// as they appear in events ("@", historical localparts allowed: anything but ':' and NUL).
struct SigilId {
  char sigil;
  std::string localpart;
  std::string server_name;
};
absl::StatusOr<SigilId> ParseSigilId(absl::string_view id, char sigil);

absl::Status ValidateRoomId(absl::string_view room_id);
absl::Status ValidateRoomAlias(absl::string_view alias);
// Event ids: "$" + 43 URL-safe base64 characters (room versions 4+), or "$opaque:server" (1-3).
absl::Status ValidateEventId(absl::string_view event_id);

// Device ids are opaque to the spec; Periscope accepts 1-255 bytes without control characters
// (they appear in logs, keys and to-device routing).
inline constexpr size_t kMaxDeviceIdBytes = 255;
absl::Status ValidateDeviceId(absl::string_view device_id);

// MSC2444 peek ids are [0-9a-zA-Z.=_-]{1,8}. Dendrite peeks with the room id as its peek id, which
// is accepted too (for that room), so Dendrite servers can peek.
bool ValidPeekId(absl::string_view peek_id, absl::string_view room_id);

}  // namespace periscope::matrix
