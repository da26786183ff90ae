#include "internal/federationapi/federationapi_component.h"

#include "internal/federationapi/inbound/destination_waker.h"
#include "internal/federationapi/inbound/inbound_peek_registry.h"
#include "internal/federationapi/inbound/inbound_peeks.h"
#include "internal/federationapi/inbound/invites.h"
#include "internal/federationapi/inbound/joins.h"
#include "internal/federationapi/inbound/parked_pdu_worker.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/inbound/transaction_processor.h"
#include "internal/federationapi/keyring/federation_key_fetcher.h"
#include "internal/federationapi/keyring/keyring.h"
#include "internal/federationapi/keyring/request_verifier.h"
#include "internal/federationapi/outbound/peek_recorder.h"
#include "internal/federationapi/outbound/room_inviter.h"
#include "internal/federationapi/outbound/room_joiner.h"
#include "internal/federationapi/outbound/room_peeker.h"
#include "internal/federationapi/reads/federation_reads.h"
#include "internal/federationapi/reads/room_reads.h"
#include "internal/federationapi/service/federationapi_service.h"
#include "internal/federationapi/storage/pg_server_key_store.h"
#include "internal/federationapi/storage/pg_transaction_store.h"
#include "pkg/federation/outbound_federation.h"
#include "pkg/pg/migrations.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace periscope::federationapi {

struct FederationApiComponent::Parts {
  std::unique_ptr<federation::OutboundFederation> outbound;
  std::unique_ptr<PgServerKeyStore> key_store;
  std::unique_ptr<FederationKeyFetcher> fetcher;
  std::unique_ptr<Keyring> keyring;
  std::unique_ptr<RequestVerifier> verifier;
  std::unique_ptr<roomserver::v1::RoomserverService::Stub> roomserver;
  std::unique_ptr<RoomInput> room_input;
  std::unique_ptr<PgTransactionStore> transaction_store;
  RoomsBeingJoined being_joined;
  std::unique_ptr<TransactionProcessor> transactions;
  // Before the worker, which calls back into it, so destroyed after it.
  std::unique_ptr<RoomPeeker> peeker;
  // After `transactions`, so stopped (destroyed) before it.
  std::unique_ptr<ParkedPduWorker> parked_worker;
  std::unique_ptr<DestinationWaker> waker;
  std::unique_ptr<RoomReads> room_reads;
  std::unique_ptr<FederationReads> reads;
  std::unique_ptr<JoinHandler> joins;
  std::unique_ptr<RoomJoiner> joiner;
  std::unique_ptr<InviteHandler> invites;
  std::unique_ptr<RoomInviter> inviter;
  std::unique_ptr<InboundPeekRegistry> peek_registry;
  std::unique_ptr<InboundPeekHandler> peeks;
  std::unique_ptr<PeekRecorder> peek_recorder;
  std::unique_ptr<userapi::v1::UserApiService::Stub> userapi;
  std::unique_ptr<FederationApiServiceImpl> service;
};

FederationApiComponent::FederationApiComponent(std::unique_ptr<Parts> parts)
    : parts_(std::move(parts)) {}
FederationApiComponent::~FederationApiComponent() = default;

absl::StatusOr<std::unique_ptr<FederationApiComponent>> FederationApiComponent::Create(
    const config::Config& config, pg::Pool& pool, const matrix::SigningKey& key, const Clock& clock,
    std::shared_ptr<grpc::Channel> roomserver, std::shared_ptr<grpc::Channel> userapi,
    std::shared_ptr<grpc::Channel> federationsender, prometheus::Registry* registry) {
  if (absl::Status s = pg::ApplyMigrations(pool, "federationapi", FederationApiMigrations());
      !s.ok()) {
    return s;
  }
  auto parts = std::make_unique<Parts>();
  absl::StatusOr<std::unique_ptr<federation::OutboundFederation>> outbound =
      federation::OutboundFederation::Create(config, key, clock);
  if (!outbound.ok()) return outbound.status();
  parts->outbound = *std::move(outbound);
  parts->key_store = std::make_unique<PgServerKeyStore>(pool);
  parts->fetcher = std::make_unique<FederationKeyFetcher>(parts->outbound->client());
  KeyringCounters counters;
  if (registry != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("periscope_federationapi_key_fetches_total")
                       .Help(
                           "Fetches of other servers' signing keys, by source (direct, notary) "
                           "and outcome (ok, failed).")
                       .Register(*registry);
    // Every series exists from the start (at 0), so dashboards and alerts see them before the
    // first fetch.
    for (const char* source : {"direct", "notary"}) {
      for (const char* outcome : {"ok", "failed"})
        family.Add({{"source", source}, {"outcome", outcome}});
    }
    counters.on_fetch = [&family](const std::string& source, bool ok) {
      family.Add({{"source", source}, {"outcome", ok ? "ok" : "failed"}}).Increment();
    };
  }
  parts->keyring =
      std::make_unique<Keyring>(config.server_name, key, *parts->key_store, *parts->fetcher,
                                config.federation.trusted_key_servers, clock, std::move(counters));
  parts->verifier = std::make_unique<RequestVerifier>(config.server_name, *parts->keyring);
  parts->roomserver = roomserver::v1::RoomserverService::NewStub(std::move(roomserver));
  parts->userapi = userapi::v1::UserApiService::NewStub(std::move(userapi));
  // Federation input may wait on the roomserver's per-room write lock behind a busy room.
  parts->room_input = NewGrpcRoomInput(*parts->roomserver, absl::Seconds(60));
  parts->transaction_store = std::make_unique<PgTransactionStore>(pool);
  TransactionCounters pdu_counters;
  if (registry != nullptr) {
    auto& family =
        prometheus::BuildCounter()
            .Name("periscope_federationapi_received_pdus_total")
            .Help(
                "PDUs received in /send transactions, by outcome: accepted, "
                "soft_failed, rejected, redacted (content hash mismatch), dropped "
                "(malformed or badly signed), denied (server ACL), ignored (unknown "
                "room), missing_prevs, parked (its room being joined; counted again once "
                "processed).")
            .Register(*registry);
    for (const char* outcome : {"accepted", "soft_failed", "rejected", "redacted", "dropped",
                                "denied", "ignored", "missing_prevs", "parked"}) {
      family.Add({{"outcome", outcome}});
    }
    pdu_counters.on_pdu = [&family](absl::string_view outcome) {
      family.Add({{"outcome", std::string(outcome)}}).Increment();
    };
  }
  parts->transactions = std::make_unique<TransactionProcessor>(
      *parts->keyring, *parts->room_input, *parts->transaction_store, &parts->outbound->client(),
      clock, std::move(pdu_counters), &parts->being_joined);
  FederationApiDeps deps;
  deps.server_name = config.server_name;
  deps.key = &key;
  deps.clock = &clock;
  deps.key_validity = config.federation.key_validity;
  deps.keyring = parts->keyring.get();
  deps.verifier = parts->verifier.get();
  deps.roomserver = parts->roomserver.get();
  deps.userapi = parts->userapi.get();
  deps.transactions = parts->transactions.get();
  parts->room_reads = NewGrpcRoomReads(*parts->roomserver, absl::Seconds(30));
  parts->reads = std::make_unique<FederationReads>(config.server_name, *parts->room_reads,
                                                   *parts->room_input, clock);
  deps.reads = parts->reads.get();
  parts->joins = std::make_unique<JoinHandler>(config.server_name, key, *parts->room_input,
                                               *parts->keyring, *parts->reads);
  deps.joins = parts->joins.get();
  // Events parked while our joins were under way are processed on the worker's thread, not on
  // the client's /join time.
  parts->parked_worker = std::make_unique<ParkedPduWorker>(
      [transactions = parts->transactions.get()](const std::vector<RoomsBeingJoined::Parked>& batch,
                                                 const std::function<bool()>& stopping) {
        return transactions->ProcessParked(batch, stopping);
      },
      clock);
  parts->joiner = std::make_unique<RoomJoiner>(
      config.server_name, key, clock, parts->outbound->client(), *parts->keyring,
      *parts->room_input, &parts->being_joined,
      [worker = parts->parked_worker.get()](std::vector<RoomsBeingJoined::Parked> parked) {
        worker->Submit(std::move(parked));
      });
  deps.joiner = parts->joiner.get();
  parts->invites =
      std::make_unique<InviteHandler>(config.server_name, key, *parts->room_input, *parts->keyring);
  deps.invites = parts->invites.get();
  parts->inviter = std::make_unique<RoomInviter>(config.server_name, parts->outbound->client(),
                                                 *parts->keyring, *parts->room_input);
  deps.inviter = parts->inviter.get();
  parts->peek_registry = NewGrpcInboundPeekRegistry(federationsender, absl::Seconds(10));
  PeekRequestCounter peek_counter;
  if (registry != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("periscope_federation_peek_requests_total")
                       .Help(
                           "Federated peek requests (MSC2444) by direction (inbound: other "
                           "servers peeking our rooms), request (peek, renew, unpeek) and outcome "
                           "(ok, bad_request, not_found, forbidden, rate_limited, error).")
                       .Register(*registry);
    for (const char* request : {"peek", "renew", "unpeek"}) {
      for (const char* outcome :
           {"ok", "bad_request", "not_found", "forbidden", "rate_limited", "error"}) {
        family.Add({{"direction", "inbound"}, {"request", request}, {"outcome", outcome}});
      }
    }
    peek_counter = [&family](absl::string_view request, absl::string_view outcome) {
      family
          .Add({{"direction", "inbound"},
                {"request", std::string(request)},
                {"outcome", std::string(outcome)}})
          .Increment();
    };
  }
  parts->peeks = std::make_unique<InboundPeekHandler>(
      *parts->room_input, *parts->room_reads, *parts->reads, *parts->peek_registry, clock,
      InboundPeekOptions{.renewal_interval = config.peeking.federation_renewal_interval,
                         .max_peeks_per_server = config.peeking.max_inbound_peeks_per_server,
                         .rate_limit_burst = config.peeking.inbound_rate_limit_burst,
                         .rate_limit_per_second = config.peeking.inbound_rate_limit_per_second},
      std::move(peek_counter));
  deps.peeks = parts->peeks.get();
  parts->peek_recorder = NewGrpcPeekRecorder(federationsender, absl::Seconds(10));
  parts->peeker = std::make_unique<RoomPeeker>(
      config.server_name, parts->outbound->client(), *parts->keyring, *parts->room_input,
      *parts->peek_recorder, &parts->being_joined,
      [worker = parts->parked_worker.get()](std::vector<RoomsBeingJoined::Parked> parked,
                                            std::function<void()> after) {
        worker->Submit(std::move(parked), std::move(after));
      });
  deps.peeker = parts->peeker.get();
  parts->transactions->set_expired_peek_handler(
      [recorder = parts->peek_recorder.get()](const std::string& origin, const std::string& room_id,
                                              const std::string& peek_id) {
        return recorder->EndedByServer(room_id, origin, peek_id);
      });
  parts->waker = NewGrpcDestinationWaker(std::move(federationsender), clock);
  deps.waker = parts->waker.get();
  parts->service = std::make_unique<FederationApiServiceImpl>(std::move(deps));
  return std::unique_ptr<FederationApiComponent>(new FederationApiComponent(std::move(parts)));
}

std::vector<grpc::Service*> FederationApiComponent::services() { return {parts_->service.get()}; }

}  // namespace periscope::federationapi
