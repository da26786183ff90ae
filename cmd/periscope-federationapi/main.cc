// periscope-federationapi: inbound server-server requests, as a mesh component.

#include "internal/app/dependency_health.h"
#include "internal/app/process.h"
#include "internal/federationapi/federationapi_component.h"
#include "pkg/clock/clock.h"
#include "pkg/grpc/channel.h"

int main(int argc, char** argv) {
  using namespace periscope;
  return app::RunComponentMain(
      argc, argv, "periscope-federationapi", "federationapi",
      [](app::ComponentEnv& env) -> absl::StatusOr<app::ServedComponent> {
        absl::StatusOr<matrix::SigningKey> loaded =
            matrix::LoadSigningKey(env.config.signing_key_path);
        if (!loaded.ok()) return loaded.status();
        auto key = std::make_shared<matrix::SigningKey>(*std::move(loaded));
        absl::StatusOr<std::unique_ptr<pg::Pool>> pool =
            app::OpenPool(env.config, "federationapi", env.registry);
        if (!pool.ok()) return pool.status();
        absl::StatusOr<std::unique_ptr<federationapi::FederationApiComponent>> c =
            federationapi::FederationApiComponent::Create(
                env.config, **pool, *key, SystemClock::Get(),
                grpcutil::Dial(env.config.roomserver.address, env.registry),
                grpcutil::Dial(env.config.userapi.address, env.registry),
                grpcutil::Dial(env.config.federationsender.address, env.registry), env.registry);
        if (!c.ok()) return c.status();
        std::shared_ptr<federationapi::FederationApiComponent> component = *std::move(c);
        pg::Pool* raw_pool = pool->get();
        // Released first to last: the component before the pool and the key it uses.
        app::ServedComponent served{component->services(),
                                    {federationapi::FederationApiComponent::kServiceName},
                                    {component, std::shared_ptr<pg::Pool>(*std::move(pool)), key}};
        served.dependency_checks = {app::PostgresCheck(*raw_pool)};
        return served;
      });
}
