// periscope-federationsender: the federationsender component of the mesh.

#include "internal/app/dependency_health.h"
#include "internal/app/process.h"
#include "internal/federationsender/federationsender_component.h"

int main(int argc, char** argv) {
  using namespace periscope;
  return app::RunComponentMain(
      argc, argv, "periscope-federationsender", "federationsender",
      [](app::ComponentEnv& env) -> absl::StatusOr<app::ServedComponent> {
        absl::StatusOr<std::unique_ptr<pg::Pool>> pool =
            app::OpenPool(env.config, "federationsender", env.registry);
        if (!pool.ok()) return pool.status();
        absl::StatusOr<std::unique_ptr<federationsender::FederationSenderComponent>> c =
            federationsender::FederationSenderComponent::Create(env.config, **pool);
        if (!c.ok()) return c.status();
        std::shared_ptr<federationsender::FederationSenderComponent> component = *std::move(c);
        pg::Pool* raw_pool = pool->get();
        app::ServedComponent served{component->services(),
                                    {federationsender::FederationSenderComponent::kServiceName},
                                    {component, std::shared_ptr<pg::Pool>(*std::move(pool))}};
        served.dependency_checks = {app::PostgresCheck(*raw_pool)};
        return served;
      });
}
