#include "internal/federationapi/federationapi_component.h"

#include "internal/federationapi/service/federationapi_service.h"
#include "pkg/clock/clock.h"

namespace periscope::federationapi {

struct FederationApiComponent::Parts {
  Parts(const config::Config& config, const matrix::SigningKey& key)
      : service(config.server_name, key, SystemClock::Get()) {}
  FederationApiServiceImpl service;
};

FederationApiComponent::FederationApiComponent(std::unique_ptr<Parts> parts)
    : parts_(std::move(parts)) {}
FederationApiComponent::~FederationApiComponent() = default;

absl::StatusOr<std::unique_ptr<FederationApiComponent>> FederationApiComponent::Create(
    const config::Config& config, const matrix::SigningKey& key) {
  return std::unique_ptr<FederationApiComponent>(
      new FederationApiComponent(std::make_unique<Parts>(config, key)));
}

std::vector<grpc::Service*> FederationApiComponent::services() { return {&parts_->service}; }

}  // namespace periscope::federationapi
