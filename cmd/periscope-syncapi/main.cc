// periscope-syncapi: the syncapi component of the mesh.

#include "internal/app/process.h"
#include "internal/syncapi/syncapi_component.h"

int main(int argc, char** argv) {
  using namespace periscope;
  return app::RunComponentMain(
      argc, argv, "periscope-syncapi", "syncapi",
      [](app::ComponentEnv& env) -> absl::StatusOr<app::ServedComponent> {
        absl::StatusOr<std::unique_ptr<pg::Pool>> pool =
            app::OpenPool(env.config, "syncapi", env.registry);
        if (!pool.ok()) return pool.status();
        absl::StatusOr<std::unique_ptr<syncapi::SyncApiComponent>> c =
            syncapi::SyncApiComponent::Create(env.config, **pool);
        if (!c.ok()) return c.status();
        std::shared_ptr<syncapi::SyncApiComponent> component = *std::move(c);
        return app::ServedComponent{component->services(),
                                    {syncapi::SyncApiComponent::kServiceName},
                                    {component, std::shared_ptr<pg::Pool>(*std::move(pool))}};
      });
}
