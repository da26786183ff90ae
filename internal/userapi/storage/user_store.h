#pragma once
// What the userapi keeps: accounts (with argon2id password hashes) and devices (with the SHA-256
// of their access token; the token itself is never stored).

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope::userapi {

struct NewDevice {
  std::string device_id;
  std::string display_name;
  // Lower-case hex SHA-256 of the access token.
  std::string token_sha256;
};

struct StoredDevice {
  std::string localpart;
  std::string device_id;
  std::string display_name;
};

struct StoredProfile {
  std::optional<std::string> displayname;
  std::optional<std::string> avatar_url;
};

class UserStore {
 public:
  virtual ~UserStore() = default;

  // Creates the account and, if `device` is set, its first device, atomically.
  // ALREADY_EXISTS if the localpart is taken.
  virtual absl::Status CreateAccount(absl::string_view localpart, absl::string_view password_hash,
                                     const NewDevice* device, int64_t now_ms) = 0;

  virtual absl::StatusOr<bool> AccountExists(absl::string_view localpart) = 0;

  // The account's password hash; nullopt if there is no such account.
  virtual absl::StatusOr<std::optional<std::string>> PasswordHash(absl::string_view localpart) = 0;

  // Creates the device, or gives an existing device id a new token (the old token stops working).
  virtual absl::Status UpsertDevice(absl::string_view localpart, const NewDevice& device,
                                    int64_t now_ms) = 0;

  // The device owning a token hash; nullopt if none.
  virtual absl::StatusOr<std::optional<StoredDevice>> DeviceByTokenHash(
      absl::string_view token_sha256) = 0;

  // Deletes one device (NOT_FOUND if it does not exist).
  virtual absl::Status DeleteDevice(absl::string_view localpart, absl::string_view device_id) = 0;

  // Deletes every device of an account; returns how many.
  virtual absl::StatusOr<int> DeleteAllDevices(absl::string_view localpart) = 0;

  // The account's profile; nullopt if there is no such account. A new account's display name is
  // its localpart.
  virtual absl::StatusOr<std::optional<StoredProfile>> Profile(absl::string_view localpart) = 0;
  // Sets the fields of `profile` that are set ("" clears one). NOT_FOUND without an account.
  virtual absl::Status UpdateProfile(absl::string_view localpart, const StoredProfile& profile) = 0;
};

}  // namespace periscope::userapi
