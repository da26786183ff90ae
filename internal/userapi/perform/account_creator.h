#pragma once
// PerformAccountCreation: registers an account and (unless inhibit_login) its first device.

#include <string>

#include "absl/status/statusor.h"
#include "internal/userapi/storage/user_store.h"
#include "periscope/userapi/v1/userapi.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/crypto/password_hasher.h"

namespace periscope::userapi {

// Bounds the work an argon2id hash can be made to do, and rejects nonsense.
inline constexpr size_t kMaxPasswordBytes = 512;

class AccountCreator {
 public:
  AccountCreator(UserStore& store, const crypto::PasswordHasher& hasher, const Clock& clock,
                 std::string server_name, bool registration_enabled)
      : store_(store),
        hasher_(hasher),
        clock_(clock),
        server_name_(std::move(server_name)),
        registration_enabled_(registration_enabled) {}

  absl::StatusOr<v1::PerformAccountCreationResponse> Create(
      const v1::PerformAccountCreationRequest& request);

  // Whether `localpart` is valid (M_INVALID_USERNAME if not) and free.
  absl::StatusOr<bool> Available(absl::string_view localpart);

 private:
  UserStore& store_;
  const crypto::PasswordHasher& hasher_;
  const Clock& clock_;
  std::string server_name_;
  bool registration_enabled_;
};

}  // namespace periscope::userapi
