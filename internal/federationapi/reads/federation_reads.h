#pragma once
// The federation read endpoints (server-server spec "Retrieving events"): GET /event/{eventId},
// /state/{roomId}?event_id=, /state_ids/{roomId}?event_id=, /event_auth/{roomId}/{eventId}.
// Who may read: the requesting server must have a joined member in the room now (403
// M_FORBIDDEN otherwise, as Synapse answers "host not in room") and be allowed by the room's
// server ACL (403); and the event must be visible to it under the history visibility at the
// event (403 otherwise, as Dendrite answers: never the event). Unknown events: 404 M_NOT_FOUND.

#include <string>

#include "absl/status/statusor.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/reads/room_reads.h"
#include "pkg/clock/clock.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

class FederationReads {
 public:
  FederationReads(std::string our_server_name, RoomReads& reads, RoomInput& rooms,
                  const Clock& clock)
      : our_server_name_(std::move(our_server_name)), reads_(reads), rooms_(rooms), clock_(clock) {}

  // {"origin", "origin_server_ts", "pdus": [event]}
  absl::StatusOr<matrix::Json> Event(const std::string& origin, const std::string& event_id);
  // {"pdu_ids", "auth_chain_ids"}: the state before the event, and its auth chain.
  absl::StatusOr<matrix::Json> StateIds(const std::string& origin, const std::string& room_id,
                                        const std::string& event_id);
  // {"pdus", "auth_chain"}: the same, as events.
  absl::StatusOr<matrix::Json> State(const std::string& origin, const std::string& room_id,
                                     const std::string& event_id);
  // {"auth_chain"}: the event's full auth chain.
  absl::StatusOr<matrix::Json> EventAuth(const std::string& origin, const std::string& room_id,
                                         const std::string& event_id);

  // Auth chains are walked to at most this many events.
  static constexpr size_t kMaxAuthChain = 10000;

 private:
  struct Readable {
    StoredPdu event;
    int room_version = 0;
  };
  // The event, once `origin` may read it (in the room, allowed by its ACL, visible then).
  absl::StatusOr<Readable> ReadableEvent(const std::string& origin,
                                         const std::string& expected_room_id,
                                         const std::string& event_id);
  // The auth chain of `events` (not including them), in no particular order.
  absl::StatusOr<std::vector<StoredPdu>> AuthChain(const std::vector<StoredPdu>& events,
                                                   int room_version);
  absl::StatusOr<std::pair<std::vector<StoredPdu>, std::vector<StoredPdu>>> StateAndChain(
      const std::string& origin, const std::string& room_id, const std::string& event_id);

  const std::string our_server_name_;
  RoomReads& reads_;
  RoomInput& rooms_;
  const Clock& clock_;
};

// An event as it goes to another server: its stored form without `unsigned`.
matrix::Json PduForFederation(const StoredPdu& pdu);

}  // namespace periscope::federationapi
