#include "internal/federationapi/federationapi_component.h"

#include "periscope/federationapi/v1/federationapi_service.grpc.pb.h"

namespace periscope::federationapi {

struct FederationApiComponent::Parts {
  // The generated base class answers UNIMPLEMENTED for every method.
  v1::FederationApiService::Service service;
};

FederationApiComponent::FederationApiComponent(std::unique_ptr<Parts> parts)
    : parts_(std::move(parts)) {}
FederationApiComponent::~FederationApiComponent() = default;

absl::StatusOr<std::unique_ptr<FederationApiComponent>> FederationApiComponent::Create(
    const config::Config&, const matrix::SigningKey&) {
  return std::unique_ptr<FederationApiComponent>(
      new FederationApiComponent(std::make_unique<Parts>()));
}

std::vector<grpc::Service*> FederationApiComponent::services() { return {&parts_->service}; }

}  // namespace periscope::federationapi
