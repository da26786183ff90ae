#include "internal/userapi/storage/pg_user_store.h"

#include "pkg/status/matrix_status.h"

namespace periscope::userapi {
namespace {

constexpr absl::string_view kSchemaV1 = R"sql(
CREATE TABLE userapi_accounts (
  localpart TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created_ts BIGINT NOT NULL,
  is_guest BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE userapi_devices (
  localpart TEXT NOT NULL REFERENCES userapi_accounts (localpart) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  -- SHA-256 (hex) of the access token: a database leak does not leak usable tokens.
  access_token_sha256 TEXT NOT NULL UNIQUE,
  created_ts BIGINT NOT NULL,
  last_seen_ts BIGINT NOT NULL,
  PRIMARY KEY (localpart, device_id)
);
)sql";

// Profiles: a row only once a user changes something; until then the display name is the
// localpart and there is no avatar. NULL means "not set".
constexpr absl::string_view kSchemaV2 = R"sql(
CREATE TABLE userapi_profiles (
  localpart TEXT PRIMARY KEY REFERENCES userapi_accounts (localpart) ON DELETE CASCADE,
  displayname TEXT,
  avatar_url TEXT
);
)sql";

constexpr pg::Statement kProfile{
    "userapi_profile",
    "SELECT a.localpart, p.localpart IS NOT NULL, p.displayname, p.avatar_url FROM "
    "userapi_accounts a LEFT JOIN userapi_profiles p USING (localpart) WHERE a.localpart = $1"};
constexpr pg::Statement kUpsertProfile{
    "userapi_upsert_profile",
    "INSERT INTO userapi_profiles (localpart, displayname, avatar_url) VALUES ($1, $2, $3) "
    "ON CONFLICT (localpart) DO UPDATE SET displayname = EXCLUDED.displayname, "
    "avatar_url = EXCLUDED.avatar_url"};

constexpr pg::Statement kInsertAccount{
    "userapi_insert_account",
    "INSERT INTO userapi_accounts (localpart, password_hash, created_ts) VALUES ($1, $2, $3)"};
constexpr pg::Statement kAccountExists{"userapi_account_exists",
                                       "SELECT 1 FROM userapi_accounts WHERE localpart = $1"};
constexpr pg::Statement kPasswordHash{
    "userapi_password_hash", "SELECT password_hash FROM userapi_accounts WHERE localpart = $1"};
constexpr pg::Statement kUpsertDevice{
    "userapi_upsert_device",
    "INSERT INTO userapi_devices (localpart, device_id, display_name, access_token_sha256, "
    "created_ts, last_seen_ts) VALUES ($1, $2, $3, $4, $5, $5) "
    "ON CONFLICT (localpart, device_id) DO UPDATE SET access_token_sha256 = "
    "EXCLUDED.access_token_sha256, "
    "last_seen_ts = EXCLUDED.last_seen_ts"};
constexpr pg::Statement kDeviceByToken{"userapi_device_by_token",
                                       "SELECT localpart, device_id, display_name FROM "
                                       "userapi_devices WHERE access_token_sha256 = $1"};
constexpr pg::Statement kDeleteDevice{
    "userapi_delete_device", "DELETE FROM userapi_devices WHERE localpart = $1 AND device_id = $2"};
constexpr pg::Statement kDeleteAllDevices{"userapi_delete_all_devices",
                                          "DELETE FROM userapi_devices WHERE localpart = $1"};

}  // namespace

const std::vector<pg::Migration>& UserApiMigrations() {
  static const std::vector<pg::Migration> kMigrations = {
      {1, "accounts and devices", kSchemaV1},
      {2, "profiles", kSchemaV2},
  };
  return kMigrations;
}

absl::Status PgUserStore::CreateAccount(absl::string_view localpart,
                                        absl::string_view password_hash, const NewDevice* device,
                                        int64_t now_ms) {
  return pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    if (auto r = c.Query(kInsertAccount, {localpart, password_hash, now_ms}); !r.ok()) {
      return r.status();
    }
    if (device == nullptr) return absl::OkStatus();
    return c
        .Query(kUpsertDevice,
               {localpart, device->device_id, device->display_name, device->token_sha256, now_ms})
        .status();
  });
}

absl::StatusOr<bool> PgUserStore::AccountExists(absl::string_view localpart) {
  absl::StatusOr<pg::Result> r = pool_.Query(kAccountExists, {localpart});
  if (!r.ok()) return r.status();
  return r->rows() > 0;
}

absl::StatusOr<std::optional<std::string>> PgUserStore::PasswordHash(absl::string_view localpart) {
  absl::StatusOr<pg::Result> r = pool_.Query(kPasswordHash, {localpart});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->Text(0, 0)));
}

absl::Status PgUserStore::UpsertDevice(absl::string_view localpart, const NewDevice& device,
                                       int64_t now_ms) {
  return pool_
      .Query(kUpsertDevice,
             {localpart, device.device_id, device.display_name, device.token_sha256, now_ms})
      .status();
}

absl::StatusOr<std::optional<StoredDevice>> PgUserStore::DeviceByTokenHash(
    absl::string_view token_sha256) {
  absl::StatusOr<pg::Result> r = pool_.Query(kDeviceByToken, {token_sha256});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::optional<StoredDevice>();
  return std::optional<StoredDevice>(StoredDevice{
      std::string(r->Text(0, 0)), std::string(r->Text(0, 1)), std::string(r->Text(0, 2))});
}

absl::Status PgUserStore::DeleteDevice(absl::string_view localpart, absl::string_view device_id) {
  absl::StatusOr<pg::Result> r = pool_.Query(kDeleteDevice, {localpart, device_id});
  if (!r.ok()) return r.status();
  if (r->affected() == 0) return absl::NotFoundError("no such device");
  return absl::OkStatus();
}

absl::StatusOr<int> PgUserStore::DeleteAllDevices(absl::string_view localpart) {
  absl::StatusOr<pg::Result> r = pool_.Query(kDeleteAllDevices, {localpart});
  if (!r.ok()) return r.status();
  return static_cast<int>(r->affected());
}

absl::StatusOr<std::optional<StoredProfile>> PgUserStore::Profile(absl::string_view localpart) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kProfile, {localpart}));
  if (r.rows() == 0) return std::optional<StoredProfile>();
  StoredProfile profile;
  if (!r.Bool(0, 1)) {
    profile.displayname = std::string(localpart);  // never changed: the localpart
  } else {
    if (!r.IsNull(0, 2)) profile.displayname = std::string(r.Text(0, 2));
    if (!r.IsNull(0, 3)) profile.avatar_url = std::string(r.Text(0, 3));
  }
  return std::optional<StoredProfile>(std::move(profile));
}

absl::Status PgUserStore::UpdateProfile(absl::string_view localpart, const StoredProfile& change) {
  return pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, c.Query(kProfile, {localpart}));
    if (r.rows() == 0) return absl::NotFoundError("no such account");
    std::optional<std::string> displayname =
        r.Bool(0, 1) ? (r.IsNull(0, 2) ? std::nullopt : std::optional<std::string>(r.Text(0, 2)))
                     : std::optional<std::string>(localpart);
    std::optional<std::string> avatar_url =
        r.Bool(0, 1) && !r.IsNull(0, 3) ? std::optional<std::string>(r.Text(0, 3)) : std::nullopt;
    if (change.displayname) {
      displayname = change.displayname->empty() ? std::nullopt : change.displayname;
    }
    if (change.avatar_url) {
      avatar_url = change.avatar_url->empty() ? std::nullopt : change.avatar_url;
    }
    return c.Query(kUpsertProfile, {localpart, displayname, avatar_url}).status();
  });
}

}  // namespace periscope::userapi
