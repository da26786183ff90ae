// periscope-syncapi: the syncapi component of the mesh.

#include "internal/app/dependency_health.h"
#include "internal/app/process.h"
#include "internal/syncapi/syncapi_component.h"
#include "pkg/clock/clock.h"
#include "pkg/grpc/channel.h"

int main(int argc, char** argv) {
  using namespace periscope;
  return app::RunComponentMain(
      argc, argv, "periscope-syncapi", "syncapi",
      [](app::ComponentEnv& env) -> absl::StatusOr<app::ServedComponent> {
        absl::StatusOr<std::unique_ptr<pg::Pool>> pool =
            app::OpenPool(env.config, "syncapi", env.registry);
        if (!pool.ok()) return pool.status();
        absl::StatusOr<std::unique_ptr<stream::JetStream>> js =
            app::ConnectNats(env.config, "periscope-syncapi", env.registry);
        if (!js.ok()) return js.status();
        absl::StatusOr<std::unique_ptr<syncapi::SyncApiComponent>> c =
            syncapi::SyncApiComponent::Create(
                env.config, **pool, **js, SystemClock::Get(),
                // Lapsed peeks are retired through the roomserver.
                grpcutil::Dial(env.config.roomserver.address, env.registry), absl::Seconds(1),
                env.registry);
        if (!c.ok()) return c.status();
        std::shared_ptr<syncapi::SyncApiComponent> component = *std::move(c);
        pg::Pool* raw_pool = pool->get();
        stream::JetStream* raw_js = js->get();
        // Owned things are released first to last: the component (and its consumer) before the
        // pool and the NATS connection it uses.
        app::ServedComponent served{component->services(),
                                    {syncapi::SyncApiComponent::kServiceName},
                                    {component, std::shared_ptr<pg::Pool>(*std::move(pool)),
                                     std::shared_ptr<stream::JetStream>(*std::move(js))},
                                    [component] { component->ReleaseWaiters(); }};
        served.dependency_checks = {app::PostgresCheck(*raw_pool), app::NatsCheck(*raw_js)};
        return served;
      });
}
