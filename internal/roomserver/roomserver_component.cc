#include "internal/roomserver/roomserver_component.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "internal/roomserver/api/output_stream.h"
#include "internal/roomserver/output/outbox_relay.h"
#include "internal/roomserver/perform/event_sender.h"
#include "internal/roomserver/perform/event_writer.h"
#include "internal/roomserver/perform/inbound_peeks.h"
#include "internal/roomserver/perform/local_peeks.h"
#include "internal/roomserver/perform/membership_changer.h"
#include "internal/roomserver/perform/membership_template.h"
#include "internal/roomserver/perform/out_of_band_membership.h"
#include "internal/roomserver/perform/remote_membership.h"
#include "internal/roomserver/perform/room_creator.h"
#include "internal/roomserver/perform/room_directory.h"
#include "internal/roomserver/service/roomserver_service.h"
#include "internal/roomserver/storage/pg_room_store.h"
#include "pkg/clock/clock.h"
#include "pkg/logging/logging.h"
#include "pkg/pg/migrations.h"
#include "pkg/status/matrix_status.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace periscope::roomserver {

struct RoomserverComponent::Parts {
  Parts(const config::Config& config, pg::Pool& pool, stream::JetStream& js,
        matrix::SigningKey signing_key, const Clock& clock,
        std::shared_ptr<grpc::Channel> federationapi)
      : key(std::move(signing_key)),
        // A join waits for make_join and send_join on another server, then the room's state.
        remote_membership(
            federationapi ? NewGrpcRemoteMembership(std::move(federationapi), absl::Seconds(120))
                          : nullptr),
        store(pool),
        relay(store, js, OutputSubjectPrefix(config)),
        writer(config.server_name, key, clock),
        creator(store, writer),
        sender(store, writer),
        memberships(store, writer, remote_membership.get(), &out_of_band),
        directory(store, config.server_name),
        peeks(store, clock, config.server_name, config.peeking.local_peek_lifetime,
              remote_membership.get()),
        inbound_peeks(store, clock, config.server_name),
        input(store, clock, config.server_name),
        templates(store, writer),
        out_of_band(config.server_name, store, clock),
        service(store, creator, sender, memberships, directory, peeks, inbound_peeks, input,
                templates, out_of_band) {
    // Every commit that queued output wakes the relay thread; the request is answered once its
    // transaction commits (readers wait for syncapi to catch up: the read fence).
    store.SetOutputListener([this] { relay.Wake(); });
  }

  matrix::SigningKey key;
  std::unique_ptr<RemoteMembership> remote_membership;
  PgRoomStore store;
  OutboxRelay relay;
  EventWriter writer;
  RoomCreator creator;
  EventSender sender;
  MembershipChanger memberships;
  RoomDirectory directory;
  LocalPeeks peeks;
  InboundPeeks inbound_peeks;
  EventInput input;
  MembershipTemplate templates;
  OutOfBandMembership out_of_band;
  RoomserverServiceImpl service;
};

RoomserverComponent::RoomserverComponent(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
RoomserverComponent::~RoomserverComponent() = default;

absl::StatusOr<std::unique_ptr<RoomserverComponent>> RoomserverComponent::Create(
    const config::Config& config, pg::Pool& pool, stream::JetStream& js,
    const matrix::SigningKey& key, const Clock& clock, std::shared_ptr<grpc::Channel> federationapi,
    prometheus::Registry* registry) {
  PERISCOPE_RETURN_IF_ERROR(pg::ApplyMigrations(pool, "roomserver", RoomserverMigrations()));
  PERISCOPE_RETURN_IF_ERROR(js.DeclareStream(OutputStreamSpec(config)));
  auto parts = std::make_unique<Parts>(config, pool, js, key, clock, std::move(federationapi));
  std::function<void(const OutboxDepth&)> on_depth;
  if (registry != nullptr) {
    prometheus::Gauge& depth =
        prometheus::BuildGauge()
            .Name("periscope_roomserver_outbox_depth")
            .Help(
                "Output-stream messages committed and not yet acknowledged by JetStream: grows "
                "while NATS is unreachable.")
            .Register(*registry)
            .Add({});
    prometheus::Gauge& oldest =
        prometheus::BuildGauge()
            .Name("periscope_roomserver_outbox_oldest_seconds")
            .Help(
                "How long the oldest output-stream message not yet acknowledged by JetStream has "
                "waited (0 when none waits): grows while NATS is unreachable, whatever the "
                "traffic.")
            .Register(*registry)
            .Add({});
    depth.Set(0);
    oldest.Set(0);
    on_depth = [&depth, &oldest](const OutboxDepth& d) {
      depth.Set(static_cast<double>(d.messages));
      oldest.Set(d.oldest_seconds);
    };
  }
  parts->relay.Start(absl::Seconds(1), std::move(on_depth));
  // Whatever a crash (or an outage) left in the outbox goes out first, oldest first, on the relay
  // thread: a long backlog does not hold up the start (and the health checks with it).
  parts->relay.Wake();
  return std::unique_ptr<RoomserverComponent>(new RoomserverComponent(std::move(parts)));
}

std::vector<grpc::Service*> RoomserverComponent::services() { return {&parts_->service}; }

}  // namespace periscope::roomserver
