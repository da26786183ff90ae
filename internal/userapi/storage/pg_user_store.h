#pragma once
// UserStore on PostgreSQL: tables userapi_accounts and userapi_devices.

#include <vector>

#include "internal/userapi/storage/user_store.h"
#include "pkg/pg/migrations.h"
#include "pkg/pg/pg.h"

namespace periscope::userapi {

// The userapi's schema migrations (component "userapi").
const std::vector<pg::Migration>& UserApiMigrations();

class PgUserStore final : public UserStore {
 public:
  explicit PgUserStore(pg::Pool& pool) : pool_(pool) {}

  absl::Status CreateAccount(absl::string_view localpart, absl::string_view password_hash,
                             const NewDevice* device, int64_t now_ms) override;
  absl::StatusOr<bool> AccountExists(absl::string_view localpart) override;
  absl::StatusOr<std::optional<std::string>> PasswordHash(absl::string_view localpart) override;
  absl::Status UpsertDevice(absl::string_view localpart, const NewDevice& device,
                            int64_t now_ms) override;
  absl::StatusOr<std::optional<StoredDevice>> DeviceByTokenHash(
      absl::string_view token_sha256) override;
  absl::Status DeleteDevice(absl::string_view localpart, absl::string_view device_id) override;
  absl::StatusOr<int> DeleteAllDevices(absl::string_view localpart) override;
  absl::StatusOr<std::optional<StoredProfile>> Profile(absl::string_view localpart) override;
  absl::Status UpdateProfile(absl::string_view localpart, const StoredProfile& profile) override;

 private:
  pg::Pool& pool_;
};

}  // namespace periscope::userapi
