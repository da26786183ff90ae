// Events from arbitrary JSON: the redaction algorithm, event ids and the authorization rules, for
// every supported room version, against a small fixed room, must never crash. The first byte
// picks the room version so the fuzzer explores each one.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/event_crypto.h"

namespace m = periscope::matrix;

namespace {

const m::AuthEvents& Room() {
  static const m::AuthEvents* room = [] {
    auto* state = new m::AuthEvents();
    auto add = [state](const char* id, const char* json) {
      if (!state->Add(id, m::Json::parse(json)).ok()) abort();
    };
    add("$create", R"({"type":"m.room.create","state_key":"","sender":"@a:x","room_id":"!r:x",
        "content":{"creator":"@a:x"}})");
    add("$a", R"({"type":"m.room.member","state_key":"@a:x","sender":"@a:x",
        "content":{"membership":"join"}})");
    add("$b", R"({"type":"m.room.member","state_key":"@b:y","sender":"@b:y",
        "content":{"membership":"ban"}})");
    add("$pl", R"({"type":"m.room.power_levels","state_key":"","sender":"@a:x",
        "content":{"users":{"@a:x":100},"events":{"m.room.name":50},"notifications":{"room":20}}})");
    add("$jr", R"({"type":"m.room.join_rules","state_key":"","sender":"@a:x",
        "content":{"join_rule":"knock_restricted"}})");
    return state;
  }();
  return *room;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int version = 4 + data[0] % 8;
  absl::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<m::Json> event = m::ParseJson(text);
  if (!event.ok()) return 0;
  absl::StatusOr<m::Json> redacted = m::RedactEvent(*event, version);
  if (event->is_object() != redacted.ok()) abort();
  (void)m::ComputeEventId(*event, version);
  absl::Status auth = m::CheckAuthRules(*event, Room(), version);
  if (!auth.ok() && auth.code() != absl::StatusCode::kPermissionDenied) abort();
  (void)m::AuthEventKeysFor(*event, version);
  return 0;
}
