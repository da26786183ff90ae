// Micro-benchmarks of pkg/matrix's hot paths: canonical JSON, event ids, signing, verification.
// Run: build/bench/matrix_bench (numbers go in bench/README.md; never a pass/fail test).

#include <benchmark/benchmark.h>

#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_signing.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::matrix {
namespace {

// A typical m.room.message PDU (about 900 bytes of canonical JSON).
constexpr char kEvent[] = R"({
  "auth_events": ["$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "$AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde",
                  "$ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210-_edcba"],
  "content": {"body": "Hello from Periscope, peeking into a world-readable room!",
              "msgtype": "m.text", "format": "org.matrix.custom.html",
              "formatted_body": "<b>Hello</b> from Periscope, peeking into a world-readable room!"},
  "depth": 1234, "origin": "example.org", "origin_server_ts": 1764000000000,
  "prev_events": ["$PrEvIoUs-EvEnT-iD_0123456789abcdefghijklmnopq"],
  "room_id": "!abcdefghijklmnop:example.org", "sender": "@alice:example.org",
  "type": "m.room.message", "unsigned": {"age": 123}})";

SigningKey Key() {
  return *ParseSigningKey("ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
}

void BM_ParseJson(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ParseJson(kEvent));
}
BENCHMARK(BM_ParseJson);

void BM_EncodeCanonicalJson(benchmark::State& state) {
  Json event = *ParseJson(kEvent);
  for (auto _ : state) benchmark::DoNotOptimize(EncodeCanonicalJson(event));
}
BENCHMARK(BM_EncodeCanonicalJson);

void BM_ComputeEventId(benchmark::State& state) {
  Json event = *SignEvent(*ParseJson(kEvent), "example.org", Key(), 10);
  for (auto _ : state) benchmark::DoNotOptimize(ComputeEventId(event, 10));
}
BENCHMARK(BM_ComputeEventId);

void BM_SignEvent(benchmark::State& state) {
  Json event = *ParseJson(kEvent);
  SigningKey key = Key();
  for (auto _ : state) benchmark::DoNotOptimize(SignEvent(event, "example.org", key, 10));
}
BENCHMARK(BM_SignEvent);

void BM_VerifyEventSignature(benchmark::State& state) {
  SigningKey key = Key();
  Json event = *SignEvent(*ParseJson(kEvent), "example.org", key, 10);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        VerifyEventSignature(event, "example.org", key.key_id, key.public_key, 10));
  }
}
BENCHMARK(BM_VerifyEventSignature);

}  // namespace
}  // namespace periscope::matrix

BENCHMARK_MAIN();
