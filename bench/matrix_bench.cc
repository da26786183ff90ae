// Micro-benchmarks of pkg/matrix's hot paths: canonical JSON, event ids, signing, verification,
// the authorization rules and the event builder.
// Run: build/bench/matrix_bench (numbers go in bench/README.md; never a pass/fail test).

#include <benchmark/benchmark.h>

#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/event_builder.h"
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

// A room's auth state: create, two members, power levels with a few entries, join rules.
AuthEvents RoomState() {
  AuthEvents state;
  auto add = [&state](const char* id, const char* json) { (void)state.Add(id, *ParseJson(json)); };
  add("$create", R"({"type":"m.room.create","state_key":"","sender":"@alice:example.org",
      "room_id":"!abcdefghijklmnop:example.org","content":{"creator":"@alice:example.org",
      "room_version":"10"}})");
  add("$alice", R"({"type":"m.room.member","state_key":"@alice:example.org",
      "sender":"@alice:example.org","content":{"membership":"join"}})");
  add("$bob", R"({"type":"m.room.member","state_key":"@bob:example.org",
      "sender":"@bob:example.org","content":{"membership":"join"}})");
  add("$pl", R"({"type":"m.room.power_levels","state_key":"","sender":"@alice:example.org",
      "content":{"users":{"@alice:example.org":100,"@bob:example.org":50},"ban":50,"kick":50,
      "redact":50,"invite":0,"state_default":50,"events_default":0,"users_default":0,
      "events":{"m.room.name":50,"m.room.power_levels":100,"m.room.history_visibility":100},
      "notifications":{"room":50}}})");
  add("$jr", R"({"type":"m.room.join_rules","state_key":"","sender":"@alice:example.org",
      "content":{"join_rule":"public"}})");
  return state;
}

// The authorization rules for a message (membership + power level lookups, power levels parse).
void BM_CheckAuthRules(benchmark::State& state) {
  AuthEvents room = RoomState();
  Json event = *ParseJson(kEvent);
  for (auto _ : state) benchmark::DoNotOptimize(CheckAuthRules(event, room, 10));
}
BENCHMARK(BM_CheckAuthRules);

// Building a message end to end: auth event selection, depth, content hash, signature, event id,
// size check.
void BM_BuildEvent(benchmark::State& state) {
  AuthEvents room = RoomState();
  SigningKey key = Key();
  Json parsed = *ParseJson(kEvent);
  ProtoEvent proto;
  proto.room_id = parsed["room_id"];
  proto.sender = parsed["sender"];
  proto.type = parsed["type"];
  proto.content = parsed["content"];
  proto.origin_server_ts = 1764000000000;
  std::vector<PrevEvent> prev = {{"$PrEvIoUs-EvEnT-iD_0123456789abcdefghijklmnopq", 1233}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(BuildEvent(proto, room, prev, 10, "example.org", key));
  }
}
BENCHMARK(BM_BuildEvent);

}  // namespace
}  // namespace periscope::matrix

BENCHMARK_MAIN();
