#pragma once
// Appends one locally-sent event to a room, inside the room's write transaction: builds it with
// pkg/matrix (auth events from the current state, prev_events from the forward extremities),
// checks the authorization rules, stores it, and queues its NewRoomEvent for the output stream.
// Everything rolls back together if any step fails, so a refused request leaves nothing behind.

#include <string>

#include "absl/status/statusor.h"
#include "internal/roomserver/storage/room_store.h"
#include "pkg/clock/clock.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::roomserver {

// Who sent an event from which device and transaction (for the sender's /sync echo).
struct SendOrigin {
  std::string device_id;
  std::string txn_id;
};

class RoomDag;

// A new event built on the room's forward extremities, not yet checked or stored.
struct DraftEvent {
  matrix::BuiltEvent built;
  // The state group before it, and its auth events' part of that state.
  int64_t state_before = 0;
  matrix::AuthEvents auth_state;
};

class EventWriter {
 public:
  EventWriter(std::string server_name, const matrix::SigningKey& key, const Clock& clock)
      : server_name_(std::move(server_name)), key_(key), clock_(clock) {}

  // Builds, authorises, stores and queues `proto` in the transaction's room (its
  // origin_server_ts is set from the clock unless the caller set one). A refusal by the auth rules
  // is PERMISSION_DENIED / M_FORBIDDEN naming the rule.
  absl::StatusOr<matrix::BuiltEvent> Append(RoomWriteTxn& txn, matrix::ProtoEvent proto,
                                            const SendOrigin& origin = {});
  // Builds `proto` (signed as this server) on the room's forward extremities, with its auth
  // events from the state before it. Nothing is checked or stored: make_join's template is this
  // without the hashes and signature.
  absl::StatusOr<DraftEvent> Draft(RoomWriteTxn& txn, RoomDag& dag, matrix::ProtoEvent proto) const;
  // Builds and signs `proto` on `prev_events` with its auth events from `auth` (signed as this
  // server, origin_server_ts from the clock): an event of a room this server is not in, which
  // no room transaction covers (a rejection of an invite received over federation).
  absl::StatusOr<matrix::BuiltEvent> BuildOutOfRoom(matrix::ProtoEvent proto,
                                                    const matrix::AuthEvents& auth,
                                                    std::vector<matrix::PrevEvent> prev_events,
                                                    int room_version) const;
  // Room version 12: the room id that the create event `create` (no room_id, origin_server_ts
  // set) will have once appended: "!" and its reference hash. Appending the same proto gives the
  // same event, since building and signing are deterministic.
  absl::StatusOr<std::string> RoomIdNamedBy(const matrix::ProtoEvent& create,
                                            int room_version) const;

  const std::string& server_name() const { return server_name_; }
  const Clock& clock() const { return clock_; }

 private:
  std::string server_name_;
  const matrix::SigningKey& key_;
  const Clock& clock_;
};

}  // namespace periscope::roomserver
