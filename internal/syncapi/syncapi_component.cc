#include "internal/syncapi/syncapi_component.h"

#include "periscope/syncapi/v1/syncapi_service.grpc.pb.h"
#include "pkg/pg/migrations.h"

namespace periscope::syncapi {

struct SyncApiComponent::Parts {
  // The generated base class answers UNIMPLEMENTED for every method.
  v1::SyncApiService::Service service;
};

SyncApiComponent::SyncApiComponent(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
SyncApiComponent::~SyncApiComponent() = default;

absl::StatusOr<std::unique_ptr<SyncApiComponent>> SyncApiComponent::Create(const config::Config&,
                                                                           pg::Pool& pool) {
  if (absl::Status s = pg::ApplyMigrations(pool, "syncapi", {}); !s.ok()) return s;
  return std::unique_ptr<SyncApiComponent>(new SyncApiComponent(std::make_unique<Parts>()));
}

std::vector<grpc::Service*> SyncApiComponent::services() { return {&parts_->service}; }

}  // namespace periscope::syncapi
