#include "internal/federationsender/federationsender_component.h"

#include "internal/federationsender/query/remote_queries.h"
#include "internal/federationsender/service/federationsender_service.h"
#include "pkg/federation/outbound_federation.h"
#include "pkg/pg/migrations.h"

namespace periscope::federationsender {

struct FederationSenderComponent::Parts {
  std::unique_ptr<federation::OutboundFederation> outbound;
  std::unique_ptr<RemoteQueries> queries;
  std::unique_ptr<FederationSenderServiceImpl> service;
};

FederationSenderComponent::FederationSenderComponent(std::unique_ptr<Parts> parts)
    : parts_(std::move(parts)) {}
FederationSenderComponent::~FederationSenderComponent() = default;

absl::StatusOr<std::unique_ptr<FederationSenderComponent>> FederationSenderComponent::Create(
    const config::Config& config, pg::Pool& pool, const matrix::SigningKey& key,
    const Clock& clock) {
  if (absl::Status s = pg::ApplyMigrations(pool, "federationsender", {}); !s.ok()) return s;
  auto parts = std::make_unique<Parts>();
  absl::StatusOr<std::unique_ptr<federation::OutboundFederation>> outbound =
      federation::OutboundFederation::Create(config, key, clock);
  if (!outbound.ok()) return outbound.status();
  parts->outbound = *std::move(outbound);
  parts->queries = std::make_unique<RemoteQueries>(config.server_name, parts->outbound->client());
  parts->service = std::make_unique<FederationSenderServiceImpl>(*parts->queries);
  return std::unique_ptr<FederationSenderComponent>(
      new FederationSenderComponent(std::move(parts)));
}

std::vector<grpc::Service*> FederationSenderComponent::services() {
  return {parts_->service.get()};
}

}  // namespace periscope::federationsender
