#pragma once
// PerformLogout / PerformLogoutAll: deleting devices (and with them their access tokens).

#include <string>

#include "absl/status/statusor.h"
#include "internal/userapi/storage/user_store.h"

namespace periscope::userapi {

class DeviceLogout {
 public:
  DeviceLogout(UserStore& store, std::string server_name)
      : store_(store), server_name_(std::move(server_name)) {}

  // Deletes one device of a local user. NOT_FOUND (M_NOT_FOUND) if there is no such device.
  absl::Status Logout(absl::string_view user_id, absl::string_view device_id);
  // Deletes every device of a local user; returns how many.
  absl::StatusOr<int> LogoutAll(absl::string_view user_id);

 private:
  absl::StatusOr<std::string> LocalLocalpart(absl::string_view user_id) const;
  UserStore& store_;
  std::string server_name_;
};

}  // namespace periscope::userapi
