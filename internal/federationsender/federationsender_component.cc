#include "internal/federationsender/federationsender_component.h"

#include "internal/federationsender/consumer/output_consumer.h"
#include "internal/federationsender/peeks/outbound_peeks.h"
#include "internal/federationsender/query/remote_queries.h"
#include "internal/federationsender/queue/queue_runner.h"
#include "internal/federationsender/queue/transaction_sender.h"
#include "internal/federationsender/service/federationsender_service.h"
#include "internal/federationsender/storage/pg_queue_store.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/federation/outbound_federation.h"
#include "pkg/pg/migrations.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
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
  std::unique_ptr<roomserver::v1::RoomserverService::Stub> roomserver;
  std::unique_ptr<OutboundPeeks> outbound_peeks;
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
    auto& lag = prometheus::BuildHistogram()
                    .Name("periscope_federation_relay_lag_seconds")
                    .Help(
                        "From the roomserver writing an event to another server's 2xx for the "
                        "/send carrying it, per PDU; to=peeking for servers that only peek the "
                        "room (MSC2444), to=joined for servers in it.")
                    .Register(*registry);
    const prometheus::Histogram::BucketBoundaries buckets = {
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
    prometheus::Histogram& to_peeking = lag.Add({{"to", "peeking"}}, buckets);
    prometheus::Histogram& to_joined = lag.Add({{"to", "joined"}}, buckets);
    counters.on_relayed = [&to_peeking, &to_joined](absl::Duration d, bool to_peeker) {
      (to_peeker ? to_peeking : to_joined).Observe(absl::ToDoubleSeconds(d));
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
  OutboundPeeks::Counters peek_counters;
  if (registry != nullptr) {
    auto& renewals = prometheus::BuildCounter()
                         .Name("periscope_federation_outbound_peek_renewals_total")
                         .Help(
                             "Renewals of our peeks into other servers' rooms (MSC2444), by "
                             "outcome: ok, failed (tried again), ended (the server no longer has "
                             "the peek).")
                         .Register(*registry);
    for (const char* outcome : {"ok", "failed", "ended"}) renewals.Add({{"outcome", outcome}});
    peek_counters.on_renewal = [&renewals](absl::string_view outcome) {
      renewals.Add({{"outcome", std::string(outcome)}}).Increment();
    };
    prometheus::Gauge& outbound = prometheus::BuildGauge()
                                      .Name("periscope_federation_outbound_peeks")
                                      .Help("Our live peeks into other servers' rooms (MSC2444).")
                                      .Register(*registry)
                                      .Add({});
    peek_counters.on_count = [&outbound](int64_t n) { outbound.Set(static_cast<double>(n)); };
    prometheus::Counter& expired =
        prometheus::BuildCounter()
            .Name("periscope_federation_expired_peeks_received_total")
            .Help("Our peeks that the peeked server ended (expired_peeks in its /send).")
            .Register(*registry)
            .Add({});
    peek_counters.on_expired_received = [&expired] { expired.Increment(); };
  }
  OutboundPeeks::RetireLocalPeeks retire;
  if (roomserver != nullptr) {
    parts->roomserver = roomserver::v1::RoomserverService::NewStub(roomserver);
    retire = [stub = parts->roomserver.get()](
                 const std::string& room_id,
                 const std::vector<std::pair<std::string, std::string>>& peekers) -> absl::Status {
      for (const auto& [user, device] : peekers) {
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        roomserver::v1::PerformUnpeekRequest request;
        request.set_user_id(user);
        request.set_device_id(device);
        request.set_room_id(room_id);
        request.set_reason(roomserver::v1::UNPEEK_REASON_NOT_PEEKABLE);
        roomserver::v1::PerformUnpeekResponse response;
        grpc::Status s = stub->PerformUnpeek(&context, request, &response);
        // A peek already gone (M_BAD_STATE) is what we wanted.
        if (!s.ok() && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
          return absl::UnavailableError(s.error_message());
        }
      }
      return absl::OkStatus();
    };
    parts->lookup = roomserver::NewGrpcEventLookup(std::move(roomserver), absl::Seconds(30));
  }
  parts->outbound_peeks = std::make_unique<OutboundPeeks>(
      *parts->store, parts->outbound->client(), clock, std::move(retire), std::move(peek_counters));
  parts->outbound_peeks->Start();
  OutboundPeeks* outbound_peeks = parts->outbound_peeks.get();
  absl::StatusOr<std::unique_ptr<OutputConsumer>> consumer = OutputConsumer::Start(
      config, js, *parts->store,
      [runner](const std::vector<std::string>& destinations) { runner->Notify(destinations); },
      parts->lookup.get(),
      [outbound_peeks](const std::string& room_id) { outbound_peeks->Check(room_id); });
  if (!consumer.ok()) return consumer.status();
  parts->consumer = *std::move(consumer);
  parts->service = std::make_unique<FederationSenderServiceImpl>(
      *parts->queries, [runner](const std::string& server) { runner->Wake(server); }, *parts->store,
      *parts->outbound_peeks, clock, config.peeking.federation_renewal_interval);
  return std::unique_ptr<FederationSenderComponent>(
      new FederationSenderComponent(std::move(parts)));
}

std::vector<grpc::Service*> FederationSenderComponent::services() {
  return {parts_->service.get()};
}

}  // namespace periscope::federationsender
