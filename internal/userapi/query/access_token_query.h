#pragma once
// QueryAccessToken: which device does a token belong to?

#include <string>

#include "absl/status/statusor.h"
#include "internal/userapi/storage/user_store.h"
#include "periscope/userapi/v1/userapi.pb.h"

namespace periscope::userapi {

class AccessTokenQuery {
 public:
  AccessTokenQuery(UserStore& store, std::string server_name)
      : store_(store), server_name_(std::move(server_name)) {}

  // UNAUTHENTICATED (M_UNKNOWN_TOKEN) for a token that no device holds.
  absl::StatusOr<::periscope::userapi::v1::Device> Resolve(absl::string_view access_token);

 private:
  UserStore& store_;
  std::string server_name_;
};

}  // namespace periscope::userapi
