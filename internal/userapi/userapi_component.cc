#include "internal/userapi/userapi_component.h"

#include "internal/userapi/service/userapi_service.h"
#include "internal/userapi/storage/pg_user_store.h"
#include "pkg/crypto/random.h"
#include "pkg/pg/migrations.h"

namespace periscope::userapi {

struct UserApiComponent::Parts {
  Parts(const config::Config& config, pg::Pool& pool, const Clock& clock)
      : store(pool),
        hasher(config.userapi.password_hash.ops_limit, config.userapi.password_hash.mem_limit_kib,
               {.max_concurrent = config.userapi.password_hash.max_concurrent,
                .max_waiting = config.userapi.password_hash.max_waiting}),
        creator(store, hasher, clock, config.server_name, config.userapi.registration_enabled),
        login(store, hasher, clock, config.server_name),
        tokens(store, config.server_name),
        logout(store, config.server_name),
        profiles(store, config.server_name),
        service(creator, login, tokens, logout, profiles) {}

  PgUserStore store;
  crypto::PasswordHasher hasher;
  AccountCreator creator;
  PasswordLogin login;
  AccessTokenQuery tokens;
  DeviceLogout logout;
  ProfileEditor profiles;
  UserApiServiceImpl service;
};

UserApiComponent::UserApiComponent(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
UserApiComponent::~UserApiComponent() = default;

absl::StatusOr<std::unique_ptr<UserApiComponent>> UserApiComponent::Create(
    const config::Config& config, pg::Pool& pool, const Clock& clock) {
  if (!crypto::InitSodium()) return absl::InternalError("libsodium failed to initialise");
  if (absl::Status s = pg::ApplyMigrations(pool, "userapi", UserApiMigrations()); !s.ok()) {
    return s;
  }
  return std::unique_ptr<UserApiComponent>(
      new UserApiComponent(std::make_unique<Parts>(config, pool, clock)));
}

std::vector<grpc::Service*> UserApiComponent::services() { return {&parts_->service}; }

}  // namespace periscope::userapi
