#pragma once
// Local users' profiles: QueryProfile and PerformSetProfile. Display names are at most 256
// bytes and avatar URLs must be mxc:// URLs (or empty, to clear).

#include <string>

#include "absl/status/statusor.h"
#include "internal/userapi/storage/user_store.h"
#include "periscope/userapi/v1/userapi.pb.h"

namespace periscope::userapi {

inline constexpr size_t kMaxDisplayNameBytes = 256;

class ProfileEditor {
 public:
  ProfileEditor(UserStore& store, std::string server_name)
      : store_(store), server_name_(std::move(server_name)) {}

  // NOT_FOUND / M_NOT_FOUND for unknown or remote users.
  absl::StatusOr<v1::QueryProfileResponse> Query(const v1::QueryProfileRequest& request);
  absl::StatusOr<v1::PerformSetProfileResponse> Set(const v1::PerformSetProfileRequest& request);

 private:
  // The localpart of a local user id, or NOT_FOUND.
  absl::StatusOr<std::string> LocalLocalpart(absl::string_view user_id);

  UserStore& store_;
  std::string server_name_;
};

}  // namespace periscope::userapi
