#pragma once
// Building new events (server-server spec "PDUs" for room versions 4-11): the fields a sender
// chooses go in a ProtoEvent; the builder picks auth_events from the current state, follows the
// room's forward extremities, sets depth, hashes and signs, and enforces the PDU size limits.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::matrix {

// The whole event, as canonical JSON in the federation format with its signatures.
inline constexpr size_t kMaxEventBytes = 65536;
// sender, room_id, type, state_key and event_id.
inline constexpr size_t kMaxEventFieldBytes = 255;
inline constexpr size_t kMaxPrevEvents = 20;
// The largest depth canonical JSON can carry (the spec allows 2^63-1; JSON numbers stop here).
inline constexpr int64_t kMaxDepth = kMaxSafeInteger;

struct ProtoEvent {
  std::string room_id;
  std::string sender;
  std::string type;
  std::optional<std::string> state_key;
  Json content = Json::object();
  // For m.room.redaction: top-level before room version 11, inside content from 11.
  std::optional<std::string> redacts;
  int64_t origin_server_ts = 0;
};

// A forward extremity of the room, which the new event will name in prev_events.
struct PrevEvent {
  std::string event_id;
  int64_t depth = 0;
};

struct BuiltEvent {
  std::string event_id;
  // The signed event in the federation format (no "event_id" key: room versions 4+ derive it).
  Json event;
};

// The prev events a new event names: the kMaxPrevEvents deepest of `extremities`, deepest first
// (ties by id, so the choice is stable), without duplicates.
std::vector<PrevEvent> ChoosePrevEvents(std::vector<PrevEvent> extremities);

// Refuses (INVALID_ARGUMENT, M_TOO_LARGE) an event whose canonical JSON exceeds kMaxEventBytes or
// whose sender, room_id, type, state_key or event_id exceeds kMaxEventFieldBytes.
absl::Status CheckEventSize(const Json& event);

// Builds, hashes and signs an event as `origin` with `key`:
//  - auth_events: the ids of the state events in `state` the selection algorithm asks for;
//  - prev_events: `prev_events` (the room's forward extremities), the kMaxPrevEvents deepest if
//    there are more; empty only for m.room.create;
//  - depth: one more than the deepest prev event (1 for m.room.create), at most kMaxDepth.
// The ids in the proto are validated (M_INVALID_PARAM) and the size limits enforced.
absl::StatusOr<BuiltEvent> BuildEvent(const ProtoEvent& proto, const AuthEvents& state,
                                      std::vector<PrevEvent> prev_events, int room_version,
                                      absl::string_view origin, const SigningKey& key);

}  // namespace periscope::matrix
