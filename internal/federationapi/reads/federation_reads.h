#pragma once
// The federation read endpoints (server-server spec "Retrieving events"): GET /event/{eventId},
// /state/{roomId}?event_id=, /state_ids/{roomId}?event_id=, /event_auth/{roomId}/{eventId}.
// Who may read: the requesting server must have a joined member in the room now (403
// M_FORBIDDEN otherwise, as Synapse answers "host not in room"), or the room be world_readable
// now (MSC2444: a peeking server fills its gaps), and be allowed by the room's server ACL (403);
// and the event must be visible to it under the history visibility at the event (for a server
// not in the room: world_readable only; 403 otherwise, as Dendrite answers: never the event).
// Unknown events: 404 M_NOT_FOUND.

#include <set>
#include <string>
#include <vector>

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

  // POST /get_missing_events/{roomId}: up to `limit` (at most 20) ancestors of latest_events,
  // breadth first over prev_events, stopping at earliest_events: {"events": [...]}. Events the
  // server may not see are served redacted (a hole would break its DAG), as Synapse and Dendrite
  // do. The body is {"earliest_events", "latest_events", "limit", "min_depth"}.
  absl::StatusOr<matrix::Json> MissingEvents(const std::string& origin, const std::string& room_id,
                                             const matrix::Json& body);
  // GET /backfill/{roomId}?v=&limit=: the `v` events and their ancestors, breadth first, up to
  // `limit` (at most 100) in all, redacted where the server may not see them:
  // {"origin", "origin_server_ts", "pdus"}.
  absl::StatusOr<matrix::Json> Backfill(const std::string& origin, const std::string& room_id,
                                        const std::vector<std::string>& from, int limit);

  // send_join's answer: {"state": the state before the join event, "auth_chain": its auth
  // chain}. No visibility check: the server has just joined, which entitles it to the state.
  absl::StatusOr<matrix::Json> StateAtJoin(const std::string& room_id, const std::string& event_id,
                                           int room_version);

  // The auth chain of `events` (not including them), in no particular order.
  absl::StatusOr<std::vector<StoredPdu>> AuthChain(const std::vector<StoredPdu>& events,
                                                   int room_version);

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
  // Checks that `origin` may read `room_id` at all (the room exists, the ACL allows it, it has a
  // joined member now, or the room is world_readable: MSC2444); returns the room version, and
  // whether `origin` has a joined member in `in_room`.
  absl::StatusOr<int> RoomAccess(const std::string& origin, const std::string& room_id,
                                 bool* in_room);
  // Breadth first over prev_events from `start` (included when `include_start`), skipping
  // `stop`, up to `limit` events of `room_id`; each redacted unless `origin` may see it.
  absl::StatusOr<std::vector<matrix::Json>> WalkBack(const std::string& origin,
                                                     const std::string& room_id, int room_version,
                                                     const std::vector<std::string>& start,
                                                     const std::set<std::string>& stop,
                                                     bool include_start, size_t limit,
                                                     bool in_room);
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
