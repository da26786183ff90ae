#include "internal/syncapi/syncapi_component.h"

#include "internal/syncapi/consumer/applied_sequences.h"
#include "internal/syncapi/consumer/output_consumer.h"
#include "internal/syncapi/notifier/notifier.h"
#include "internal/syncapi/peeks/grpc_peek_retirer.h"
#include "internal/syncapi/peeks/peek_expirer.h"
#include "internal/syncapi/peeks/peek_metrics.h"
#include "internal/syncapi/peeks/peek_renewer.h"
#include "internal/syncapi/service/syncapi_service.h"
#include "internal/syncapi/storage/caching_sync_store.h"
#include "internal/syncapi/storage/pg_sync_store.h"
#include "internal/syncapi/sync/grpc_room_sequence_source.h"
#include "internal/syncapi/sync/messages_pager.h"
#include "internal/syncapi/sync/read_fence.h"
#include "internal/syncapi/sync/room_reader.h"
#include "internal/syncapi/sync/sync_builder.h"
#include "pkg/pg/migrations.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {

struct SyncApiComponent::Parts {
  Parts(const config::Config& config, std::unique_ptr<PgSyncStore> pg_store,
        std::unique_ptr<CachingSyncStore> cached_store, const Clock& clock,
        std::unique_ptr<RoomSequenceSource> sequence_source, prometheus::Registry* registry)
      : peek_metrics(registry),
        sequence_source(std::move(sequence_source)),
        pg_store(std::move(pg_store)),
        cached_store(std::move(cached_store)),
        store(*this->cached_store),
        notifier(clock),
        applied(store, registry),
        fence(this->sequence_source.get(), applied, kReadCatchUpBound, registry),
        builder(store),
        pager(store, fence),
        reader(store, fence),
        account_data(store, notifier),
        renewer(store, clock, config.peeking.local_peek_lifetime, peek_metrics),
        sync_metrics(registry),
        runner(builder, notifier, sync_metrics, renewer, clock),
        service(runner, pager, reader, account_data, notifier) {}

  // How long a client read of a room waits for syncapi to apply the room's committed writes.
  static constexpr absl::Duration kReadCatchUpBound = absl::Seconds(2);

  PeekMetrics peek_metrics;
  std::unique_ptr<RoomSequenceSource> sequence_source;
  std::unique_ptr<PgSyncStore> pg_store;
  std::unique_ptr<CachingSyncStore> cached_store;
  // Everything in syncapi reads and writes through the cache.
  SyncStore& store;
  Notifier notifier;
  AppliedSequences applied;
  ReadFence fence;
  SyncBuilder builder;
  MessagesPager pager;
  RoomReader reader;
  AccountDataKeeper account_data;
  PeekRenewer renewer;
  SyncMetrics sync_metrics;
  SyncRunner runner;
  SyncApiServiceImpl service;
  std::unique_ptr<PeekRetirer> retirer;
  std::unique_ptr<PeekExpirer> expirer;
  std::unique_ptr<roomserver::EventLookup> state_events;
  // Last: stops first, before what it feeds.
  std::unique_ptr<OutputConsumer> consumer;
};

SyncApiComponent::SyncApiComponent(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

SyncApiComponent::~SyncApiComponent() {
  parts_->consumer.reset();
  parts_->expirer.reset();
  // The workers run syncs that use the runner, builder and renewer: join them before those go.
  parts_->notifier.Stop();
}

absl::StatusOr<std::unique_ptr<SyncApiComponent>> SyncApiComponent::Create(
    const config::Config& config, pg::Pool& pool, stream::JetStream& js, const Clock& clock,
    std::shared_ptr<grpc::Channel> roomserver, absl::Duration peek_check_every,
    prometheus::Registry* registry) {
  PERISCOPE_RETURN_IF_ERROR(pg::ApplyMigrations(pool, "syncapi", SyncApiMigrations()));
  auto pg_store = std::make_unique<PgSyncStore>(pool);
  PERISCOPE_ASSIGN_OR_RETURN(std::unique_ptr<CachingSyncStore> cached_store,
                             CachingSyncStore::Create(*pg_store));
  std::unique_ptr<RoomSequenceSource> sequence_source;
  if (roomserver != nullptr) {
    // Well under the fence's bound: a slow roomserver makes a read possibly stale, not late.
    sequence_source = NewGrpcRoomSequenceSource(roomserver, absl::Milliseconds(500));
  }
  auto parts = std::make_unique<Parts>(config, std::move(pg_store), std::move(cached_store), clock,
                                       std::move(sequence_source), registry);
  if (roomserver != nullptr) {
    parts->state_events = roomserver::NewGrpcEventLookup(roomserver, absl::Seconds(30));
    parts->retirer = NewGrpcPeekRetirer(std::move(roomserver), config.gateway.upstream_timeout);
    parts->expirer = std::make_unique<PeekExpirer>(parts->store, *parts->retirer,
                                                   parts->peek_metrics, clock, peek_check_every);
  }
  PERISCOPE_ASSIGN_OR_RETURN(
      parts->consumer,
      OutputConsumer::Start(config, js, parts->store, parts->notifier, parts->peek_metrics,
                            parts->applied, parts->state_events.get()));
  return std::unique_ptr<SyncApiComponent>(new SyncApiComponent(std::move(parts)));
}

std::vector<grpc::Service*> SyncApiComponent::services() { return {&parts_->service}; }

std::function<void()> SyncApiComponent::SyncInProcess(
    const v1::SyncRequest& request, std::function<void(absl::StatusOr<v1::SyncResponse>)> done) {
  return parts_->runner.Run(request, std::move(done));
}

size_t SyncApiComponent::waiting_syncs() const { return parts_->notifier.waiting(); }

void SyncApiComponent::ReleaseWaiters() { parts_->notifier.Shutdown(); }

}  // namespace periscope::syncapi
