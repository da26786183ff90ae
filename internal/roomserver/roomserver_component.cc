#include "internal/roomserver/roomserver_component.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/pg/migrations.h"

namespace periscope::roomserver {

stream::StreamSpec OutputStreamSpec(const config::Config& config) {
  // Both the stream name and its subjects carry the prefix, so that several deployments (or
  // test instances) can share one NATS without their subjects overlapping.
  return {.name = absl::StrCat(config.nats.stream_prefix, "_ROOMSERVER_OUTPUT"),
          .subjects = {absl::StrCat(absl::AsciiStrToLower(config.nats.stream_prefix),
                                    ".roomserver.output.>")},
          .replicas = config.nats.replicas};
}

struct RoomserverComponent::Parts {
  // The generated base class answers UNIMPLEMENTED for every method.
  v1::RoomserverService::Service service;
};

RoomserverComponent::RoomserverComponent(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
RoomserverComponent::~RoomserverComponent() = default;

absl::StatusOr<std::unique_ptr<RoomserverComponent>> RoomserverComponent::Create(
    const config::Config& config, pg::Pool& pool, stream::JetStream& js,
    const matrix::SigningKey&) {
  if (absl::Status s = pg::ApplyMigrations(pool, "roomserver", {}); !s.ok()) return s;
  if (absl::Status s = js.DeclareStream(OutputStreamSpec(config)); !s.ok()) return s;
  return std::unique_ptr<RoomserverComponent>(new RoomserverComponent(std::make_unique<Parts>()));
}

std::vector<grpc::Service*> RoomserverComponent::services() { return {&parts_->service}; }

}  // namespace periscope::roomserver
