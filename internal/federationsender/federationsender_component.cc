#include "internal/federationsender/federationsender_component.h"

#include "internal/federationsender/consumer/output_consumer.h"
#include "internal/federationsender/query/remote_queries.h"
#include "internal/federationsender/queue/queue_runner.h"
#include "internal/federationsender/queue/transaction_sender.h"
#include "internal/federationsender/service/federationsender_service.h"
#include "internal/federationsender/storage/pg_queue_store.h"
#include "pkg/federation/outbound_federation.h"
#include "pkg/pg/migrations.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace periscope::federationsender {

// Destroyed in reverse order: the consumer (which notifies the runner) first, then the runner
// (which uses the sender), the sender, the store, the outbound client.
struct FederationSenderComponent::Parts {
  std::unique_ptr<federation::OutboundFederation> outbound;
  std::unique_ptr<RemoteQueries> queries;
  std::unique_ptr<PgQueueStore> store;
  std::unique_ptr<TransactionSender> sender;
  std::unique_ptr<roomserver::EventLookup> lookup;
  std::unique_ptr<QueueRunner> runner;
  std::unique_ptr<OutputConsumer> consumer;
  std::unique_ptr<FederationSenderServiceImpl> service;
};

FederationSenderComponent::FederationSenderComponent(std::unique_ptr<Parts> parts)
    : parts_(std::move(parts)) {}
FederationSenderComponent::~FederationSenderComponent() = default;

absl::StatusOr<std::unique_ptr<FederationSenderComponent>> FederationSenderComponent::Create(
    const config::Config& config, pg::Pool& pool, stream::JetStream& js,
    const matrix::SigningKey& key, const Clock& clock, prometheus::Registry* registry,
    std::shared_ptr<grpc::Channel> roomserver) {
  if (absl::Status s = pg::ApplyMigrations(pool, "federationsender", FederationSenderMigrations());
      !s.ok()) {
    return s;
  }
  auto parts = std::make_unique<Parts>();
  absl::StatusOr<std::unique_ptr<federation::OutboundFederation>> outbound =
      federation::OutboundFederation::Create(config, key, clock);
  if (!outbound.ok()) return outbound.status();
  parts->outbound = *std::move(outbound);
  parts->queries = std::make_unique<RemoteQueries>(config.server_name, parts->outbound->client());
  parts->store = std::make_unique<PgQueueStore>(pool);
  TransactionSenderCounters counters;
  if (registry != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("periscope_federationsender_transactions_total")
                       .Help(
                           "Transactions sent to other servers, by outcome: ok (2xx), refused "
                           "(another status) or unreachable.")
                       .Register(*registry);
    for (const char* outcome : {"ok", "refused", "unreachable"}) family.Add({{"outcome", outcome}});
    counters.on_transaction = [&family](absl::string_view outcome) {
      family.Add({{"outcome", std::string(outcome)}}).Increment();
    };
    prometheus::Counter& expired_sent =
        prometheus::BuildCounter()
            .Name("periscope_federation_expired_peeks_sent_total")
            .Help("Ended inbound peeks told to their servers (MSC2444 expired_peeks in /send).")
            .Register(*registry)
            .Add({});
    counters.on_expired_peeks_sent = [&expired_sent](int64_t n) {
      expired_sent.Increment(static_cast<double>(n));
    };
  }
  parts->sender = std::make_unique<TransactionSender>(*parts->store, parts->outbound->client(),
                                                      config.server_name, clock, absl::Hours(1),
                                                      std::move(counters));
  QueueRunner::SweepGauges gauges;
  QueueRunner::EvictionCounter evictions;
  if (registry != nullptr) {
    prometheus::Gauge& queued = prometheus::BuildGauge()
                                    .Name("periscope_federationsender_queued_pdus")
                                    .Help("PDUs waiting in the destination queues, all together.")
                                    .Register(*registry)
                                    .Add({});
    prometheus::Gauge& backoff =
        prometheus::BuildGauge()
            .Name("periscope_federationsender_destinations_in_backoff")
            .Help("Destinations not tried again before a later time after failures.")
            .Register(*registry)
            .Add({});
    prometheus::Gauge& inbound_peeks =
        prometheus::BuildGauge()
            .Name("periscope_federation_inbound_peeks")
            .Help("Live peeks of other servers into our rooms (MSC2444).")
            .Register(*registry)
            .Add({});
    gauges = [&queued, &backoff, &inbound_peeks](int64_t q, int64_t b, int64_t p) {
      queued.Set(static_cast<double>(q));
      backoff.Set(static_cast<double>(b));
      inbound_peeks.Set(static_cast<double>(p));
    };
    prometheus::Counter& evicted =
        prometheus::BuildCounter()
            .Name("periscope_federation_inbound_peek_evictions_total")
            .Help("Inbound peeks ended because their server did not renew them in time.")
            .Register(*registry)
            .Add({});
    evictions = [&evicted](int64_t n) { evicted.Increment(static_cast<double>(n)); };
  }
  parts->runner = std::make_unique<QueueRunner>(*parts->store, *parts->sender, clock,
                                                std::move(gauges), /*workers=*/4,
                                                /*poll=*/absl::Seconds(1), std::move(evictions));
  parts->runner->Start();
  QueueRunner* runner = parts->runner.get();
  if (roomserver != nullptr) {
    parts->lookup = roomserver::NewGrpcEventLookup(std::move(roomserver), absl::Seconds(30));
  }
  absl::StatusOr<std::unique_ptr<OutputConsumer>> consumer = OutputConsumer::Start(
      config, js, *parts->store,
      [runner](const std::vector<std::string>& destinations) { runner->Notify(destinations); },
      parts->lookup.get());
  if (!consumer.ok()) return consumer.status();
  parts->consumer = *std::move(consumer);
  parts->service = std::make_unique<FederationSenderServiceImpl>(
      *parts->queries, [runner](const std::string& server) { runner->Wake(server); }, *parts->store,
      clock, config.peeking.federation_renewal_interval);
  return std::unique_ptr<FederationSenderComponent>(
      new FederationSenderComponent(std::move(parts)));
}

std::vector<grpc::Service*> FederationSenderComponent::services() {
  return {parts_->service.get()};
}

}  // namespace periscope::federationsender
