#pragma once
// Matrix error codes used across components (client-server and server-server APIs).

#include "absl/strings/string_view.h"

namespace periscope::matrix::errcode {

inline constexpr absl::string_view kForbidden = "M_FORBIDDEN";
inline constexpr absl::string_view kUnknownToken = "M_UNKNOWN_TOKEN";
inline constexpr absl::string_view kMissingToken = "M_MISSING_TOKEN";
inline constexpr absl::string_view kBadJson = "M_BAD_JSON";
inline constexpr absl::string_view kNotJson = "M_NOT_JSON";
inline constexpr absl::string_view kNotFound = "M_NOT_FOUND";
inline constexpr absl::string_view kLimitExceeded = "M_LIMIT_EXCEEDED";
inline constexpr absl::string_view kUnrecognized = "M_UNRECOGNIZED";
inline constexpr absl::string_view kUnknown = "M_UNKNOWN";
inline constexpr absl::string_view kUserInUse = "M_USER_IN_USE";
inline constexpr absl::string_view kInvalidUsername = "M_INVALID_USERNAME";
inline constexpr absl::string_view kInvalidParam = "M_INVALID_PARAM";
inline constexpr absl::string_view kMissingParam = "M_MISSING_PARAM";
inline constexpr absl::string_view kTooLarge = "M_TOO_LARGE";
inline constexpr absl::string_view kGuestAccessForbidden = "M_GUEST_ACCESS_FORBIDDEN";
inline constexpr absl::string_view kBadState = "M_BAD_STATE";
inline constexpr absl::string_view kWeakPassword = "M_WEAK_PASSWORD";
inline constexpr absl::string_view kUnsupportedRoomVersion = "M_UNSUPPORTED_ROOM_VERSION";
inline constexpr absl::string_view kIncompatibleRoomVersion = "M_INCOMPATIBLE_ROOM_VERSION";

}  // namespace periscope::matrix::errcode
