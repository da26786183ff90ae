// periscope-federationapi: inbound server-server requests, as a mesh component.

#include "internal/app/process.h"
#include "internal/federationapi/federationapi_component.h"

int main(int argc, char** argv) {
  using namespace periscope;
  return app::RunComponentMain(
      argc, argv, "periscope-federationapi", "federationapi",
      [](app::ComponentEnv& env) -> absl::StatusOr<app::ServedComponent> {
        absl::StatusOr<matrix::SigningKey> key =
            matrix::LoadSigningKey(env.config.signing_key_path);
        if (!key.ok()) return key.status();
        absl::StatusOr<std::unique_ptr<federationapi::FederationApiComponent>> c =
            federationapi::FederationApiComponent::Create(env.config, *key);
        if (!c.ok()) return c.status();
        std::shared_ptr<federationapi::FederationApiComponent> component = *std::move(c);
        return app::ServedComponent{component->services(),
                                    {federationapi::FederationApiComponent::kServiceName},
                                    {component}};
      });
}
