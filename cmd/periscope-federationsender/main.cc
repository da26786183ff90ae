// periscope-federationsender: the federationsender component of the mesh.

#include "internal/app/dependency_health.h"
#include "internal/app/process.h"
#include "internal/federationsender/federationsender_component.h"
#include "pkg/clock/clock.h"
#include "pkg/grpc/channel.h"

int main(int argc, char** argv) {
  using namespace periscope;
  return app::RunComponentMain(
      argc, argv, "periscope-federationsender", "federationsender",
      [](app::ComponentEnv& env) -> absl::StatusOr<app::ServedComponent> {
        absl::StatusOr<matrix::SigningKey> loaded =
            matrix::LoadSigningKey(env.config.signing_key_path);
        if (!loaded.ok()) return loaded.status();
        auto key = std::make_shared<matrix::SigningKey>(*std::move(loaded));
        absl::StatusOr<std::unique_ptr<pg::Pool>> pool =
            app::OpenPool(env.config, "federationsender", env.registry);
        if (!pool.ok()) return pool.status();
        absl::StatusOr<std::unique_ptr<stream::JetStream>> js =
            app::ConnectNats(env.config, "periscope-federationsender", env.registry);
        if (!js.ok()) return js.status();
        absl::StatusOr<std::unique_ptr<federationsender::FederationSenderComponent>> c =
            federationsender::FederationSenderComponent::Create(
                env.config, **pool, **js, *key, SystemClock::Get(), env.registry,
                grpcutil::Dial(env.config.roomserver.address, env.registry));
        if (!c.ok()) return c.status();
        std::shared_ptr<federationsender::FederationSenderComponent> component = *std::move(c);
        pg::Pool* raw_pool = pool->get();
        stream::JetStream* raw_js = js->get();
        // Released first to last: the component before the pool, the NATS connection and the key.
        app::ServedComponent served{component->services(),
                                    {federationsender::FederationSenderComponent::kServiceName},
                                    {component, std::shared_ptr<pg::Pool>(*std::move(pool)),
                                     std::shared_ptr<stream::JetStream>(*std::move(js)), key}};
        served.dependency_checks = {app::PostgresCheck(*raw_pool), app::NatsCheck(*raw_js)};
        return served;
      });
}
