#pragma once
// PerformPasswordLogin: checks a password and issues a device with a new access token.

#include <string>

#include "absl/status/statusor.h"
#include "internal/userapi/storage/user_store.h"
#include "periscope/userapi/v1/userapi.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/crypto/password_hasher.h"

namespace periscope::userapi {

class PasswordLogin {
 public:
  PasswordLogin(UserStore& store, const crypto::PasswordHasher& hasher, const Clock& clock,
                std::string server_name)
      : store_(store), hasher_(hasher), clock_(clock), server_name_(std::move(server_name)) {}

  absl::StatusOr<v1::PerformPasswordLoginResponse> Login(
      const v1::PerformPasswordLoginRequest& request);

 private:
  UserStore& store_;
  const crypto::PasswordHasher& hasher_;
  const Clock& clock_;
  std::string server_name_;
};

}  // namespace periscope::userapi
