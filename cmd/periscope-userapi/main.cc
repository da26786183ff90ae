// periscope-userapi: accounts, devices and access tokens, as a mesh component.

#include "internal/app/dependency_health.h"
#include "internal/app/process.h"
#include "internal/userapi/userapi_component.h"
#include "pkg/clock/clock.h"

int main(int argc, char** argv) {
  using namespace periscope;
  return app::RunComponentMain(
      argc, argv, "periscope-userapi", "userapi",
      [](app::ComponentEnv& env) -> absl::StatusOr<app::ServedComponent> {
        absl::StatusOr<std::unique_ptr<pg::Pool>> pool =
            app::OpenPool(env.config, "userapi", env.registry);
        if (!pool.ok()) return pool.status();
        absl::StatusOr<std::unique_ptr<userapi::UserApiComponent>> c =
            userapi::UserApiComponent::Create(env.config, **pool, SystemClock::Get());
        if (!c.ok()) return c.status();
        std::shared_ptr<userapi::UserApiComponent> component = *std::move(c);
        pg::Pool* raw_pool = pool->get();
        app::ServedComponent served{component->services(),
                                    {userapi::UserApiComponent::kServiceName},
                                    {component, std::shared_ptr<pg::Pool>(*std::move(pool))}};
        served.dependency_checks = {app::PostgresCheck(*raw_pool)};
        return served;
      });
}
