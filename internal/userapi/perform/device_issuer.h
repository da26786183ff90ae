#pragma once
// Makes new devices: a device id (given, or random) and a fresh 256-bit access token, of which
// only the SHA-256 is stored.

#include <string>

#include "internal/userapi/storage/user_store.h"

namespace periscope::userapi {

struct IssuedDevice {
  NewDevice stored;
  // The token to hand to the client, once.
  std::string access_token;
};

// `device_id` empty: a random one. `display_name` is stored as given.
IssuedDevice IssueDevice(const std::string& device_id, const std::string& display_name);

// The hash under which a token is stored and looked up.
std::string HashAccessToken(absl::string_view access_token);

}  // namespace periscope::userapi
