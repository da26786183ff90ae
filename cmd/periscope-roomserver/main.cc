// periscope-roomserver: rooms, events and the output stream, as a mesh component.

#include "internal/app/dependency_health.h"
#include "internal/app/process.h"
#include "internal/roomserver/roomserver_component.h"
#include "pkg/clock/clock.h"
#include "pkg/grpc/channel.h"

int main(int argc, char** argv) {
  using namespace periscope;
  return app::RunComponentMain(
      argc, argv, "periscope-roomserver", "roomserver",
      [](app::ComponentEnv& env) -> absl::StatusOr<app::ServedComponent> {
        absl::StatusOr<matrix::SigningKey> key =
            matrix::LoadSigningKey(env.config.signing_key_path);
        if (!key.ok()) return key.status();
        absl::StatusOr<std::unique_ptr<pg::Pool>> pool =
            app::OpenPool(env.config, "roomserver", env.registry);
        if (!pool.ok()) return pool.status();
        absl::StatusOr<std::unique_ptr<stream::JetStream>> js =
            app::ConnectNats(env.config, "periscope-roomserver", env.registry);
        if (!js.ok()) return js.status();
        absl::StatusOr<std::unique_ptr<roomserver::RoomserverComponent>> c =
            roomserver::RoomserverComponent::Create(
                env.config, **pool, **js, *key, SystemClock::Get(),
                // Joins of rooms on other servers go through the federationapi.
                grpcutil::Dial(env.config.federationapi.address, env.registry), env.registry);
        if (!c.ok()) return c.status();
        std::shared_ptr<roomserver::RoomserverComponent> component = *std::move(c);
        pg::Pool* raw_pool = pool->get();
        app::ServedComponent served{component->services(),
                                    {roomserver::RoomserverComponent::kServiceName},
                                    {component, std::shared_ptr<pg::Pool>(*std::move(pool)),
                                     std::shared_ptr<stream::JetStream>(*std::move(js))}};
        // PostgreSQL only: while NATS is out, sends go on and their output waits in the outbox
        // (taking the roomserver out of rotation would refuse them instead).
        served.dependency_checks = {app::PostgresCheck(*raw_pool)};
        return served;
      });
}
