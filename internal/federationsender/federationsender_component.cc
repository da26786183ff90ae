#include "internal/federationsender/federationsender_component.h"

#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"
#include "pkg/pg/migrations.h"

namespace periscope::federationsender {

struct FederationSenderComponent::Parts {
  // The generated base class answers UNIMPLEMENTED for every method.
  v1::FederationSenderService::Service service;
};

FederationSenderComponent::FederationSenderComponent(std::unique_ptr<Parts> parts)
    : parts_(std::move(parts)) {}
FederationSenderComponent::~FederationSenderComponent() = default;

absl::StatusOr<std::unique_ptr<FederationSenderComponent>> FederationSenderComponent::Create(
    const config::Config&, pg::Pool& pool) {
  if (absl::Status s = pg::ApplyMigrations(pool, "federationsender", {}); !s.ok()) return s;
  return std::unique_ptr<FederationSenderComponent>(
      new FederationSenderComponent(std::make_unique<Parts>()));
}

std::vector<grpc::Service*> FederationSenderComponent::services() { return {&parts_->service}; }

}  // namespace periscope::federationsender
