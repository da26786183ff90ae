// The CPU cost of a /send transaction's stateless checks (issue 14): a 50-PDU transaction of
// messages, each event's id computed, its sender's signature verified (ed25519, keys from the
// keyring's store) and its content hash checked, as TransactionProcessor does before the
// roomserver. Reports PDUs per second; the roomserver's stateful checks and the PostgreSQL commit
// come on top (bench/README.md puts the figures beside that floor).
// Run: build/bench/federation_pdu_checks_bench

#include <benchmark/benchmark.h>

#include <vector>

#include "internal/federationapi/inbound/pdu_checks.h"
#include "internal/federationapi/testing/fake_key_fetcher.h"
#include "internal/federationapi/testing/fake_server_key_store.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/server_keys.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;

void BM_CheckTransactionOf50Messages(benchmark::State& state) {
  SimulatedClock clock;
  matrix::SigningKey ours = *matrix::GenerateSigningKey("us");
  matrix::SigningKey remote = *matrix::GenerateSigningKey("r1");
  testing::FakeServerKeyStore store;
  testing::FakeKeyFetcher fetcher;
  fetcher.direct["remote.test"] =
      *matrix::BuildServerKeys("remote.test", remote, clock.Now() + absl::Hours(24));
  Keyring keyring("us.test", ours, store, fetcher, {}, clock);
  std::vector<Json> pdus;
  for (int i = 0; i < 50; ++i) {
    Json event = {{"room_id", "!room:us.test"},
                  {"type", "m.room.message"},
                  {"sender", "@bob:remote.test"},
                  {"origin_server_ts", absl::ToUnixMillis(clock.Now()) + i},
                  {"depth", 10 + i},
                  {"prev_events", {"$prev"}},
                  {"auth_events", {"$create", "$power", "$member"}},
                  {"content",
                   {{"msgtype", "m.text"},
                    {"body",
                     "a message of ordinary length, "
                     "about a hundred bytes long"}}}};
    pdus.push_back(*matrix::SignEvent(event, "remote.test", remote, 10));
  }
  for (auto _ : state) {
    for (const Json& pdu : pdus) {
      absl::StatusOr<CheckedPdu> checked = CheckPdu(pdu, 10, keyring);
      if (!checked.ok()) state.SkipWithError("a PDU failed its checks");
      benchmark::DoNotOptimize(checked);
    }
  }
  state.SetItemsProcessed(state.iterations() * 50);
}
BENCHMARK(BM_CheckTransactionOf50Messages)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace periscope::federationapi

BENCHMARK_MAIN();
