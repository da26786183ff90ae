#include "internal/federationsender/storage/pg_queue_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/server_acl.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationsender {
namespace {

constexpr char kSchemaV1[] = R"sql(
-- The last output-stream message applied per room (a redelivery at or below it changes nothing).
CREATE TABLE federationsender_room_sequences (
  room_id TEXT PRIMARY KEY,
  room_sequence BIGINT NOT NULL
);
-- Joined members per room and their servers: the destinations of the room's events.
CREATE TABLE federationsender_joined_members (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  server_name TEXT NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX federationsender_joined_members_server
  ON federationsender_joined_members (room_id, server_name);
-- PDUs waiting for each destination, in queue order; txn_id is set once the PDU is part of the
-- destination's transaction in flight.
CREATE TABLE federationsender_queue (
  position BIGSERIAL PRIMARY KEY,
  destination TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_json TEXT NOT NULL,
  txn_id TEXT,
  UNIQUE (destination, event_id)
);
CREATE INDEX federationsender_queue_destination ON federationsender_queue (destination, position);
-- Each destination's transaction in flight and its backoff.
CREATE TABLE federationsender_destinations (
  destination TEXT PRIMARY KEY,
  txn_id TEXT,
  failures INT NOT NULL DEFAULT 0,
  retry_at_ts BIGINT NOT NULL DEFAULT 0
);
)sql";

// Inbound peeks (MSC2444), and the ended ones each peeking server is still to be told of.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE federationsender_inbound_peeks (
  room_id TEXT NOT NULL,
  server_name TEXT NOT NULL,
  peek_id TEXT NOT NULL,
  latest_event_id TEXT NOT NULL,
  renewed_ts BIGINT NOT NULL,
  renewal_interval_ms BIGINT NOT NULL,
  PRIMARY KEY (room_id, server_name, peek_id)
);
CREATE INDEX federationsender_inbound_peeks_server ON federationsender_inbound_peeks (server_name);
CREATE INDEX federationsender_inbound_peeks_expiry
  ON federationsender_inbound_peeks ((renewed_ts + renewal_interval_ms));
-- txn_id is set once the entry is part of the destination's transaction in flight (as for PDUs).
CREATE TABLE federationsender_expired_peeks (
  position BIGSERIAL PRIMARY KEY,
  destination TEXT NOT NULL,
  room_id TEXT NOT NULL,
  peek_id TEXT NOT NULL,
  txn_id TEXT
);
CREATE INDEX federationsender_expired_peeks_destination
  ON federationsender_expired_peeks (destination, position);
)sql";

// Our peeks into other servers' rooms, and the local devices peeking each room (from the
// stream's new_peek / retire_peek): an outbound peek lives while any device looks.
constexpr char kSchemaV3[] = R"sql(
CREATE TABLE federationsender_outbound_peeks (
  room_id TEXT NOT NULL,
  server_name TEXT NOT NULL,
  peek_id TEXT NOT NULL,
  renewed_ts BIGINT NOT NULL,
  renewal_interval_ms BIGINT NOT NULL,
  created_ts BIGINT NOT NULL,
  PRIMARY KEY (room_id, server_name, peek_id)
);
CREATE TABLE federationsender_local_peekers (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  PRIMARY KEY (room_id, user_id, device_id)
);
)sql";

// Set once a local device's peek of the room came through the stream after the peek was recorded.
constexpr char kSchemaV4[] = R"sql(
ALTER TABLE federationsender_outbound_peeks ADD COLUMN confirmed BOOLEAN NOT NULL DEFAULT false;
)sql";

constexpr char kSchemaV5[] = R"sql(
ALTER TABLE federationsender_queue ADD COLUMN committed_ts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE federationsender_queue ADD COLUMN to_peeker BOOLEAN NOT NULL DEFAULT false;
)sql";

// Expired peeks per transaction: well under any body limit.
constexpr int kMaxExpiredPeeksPerTransaction = 100;

constexpr pg::Statement kLockRoomSequence{
    "federationsender_lock_room_sequence",
    "SELECT room_sequence FROM federationsender_room_sequences WHERE room_id = $1 FOR UPDATE"};
constexpr pg::Statement kUpsertRoomSequence{
    "federationsender_upsert_room_sequence",
    "INSERT INTO federationsender_room_sequences (room_id, room_sequence) VALUES ($1, $2) "
    "ON CONFLICT (room_id) DO UPDATE SET room_sequence = EXCLUDED.room_sequence"};
constexpr pg::Statement kJoinedServers{
    "federationsender_joined_servers",
    "SELECT DISTINCT server_name FROM federationsender_joined_members WHERE room_id = $1 "
    "ORDER BY server_name"};
constexpr pg::Statement kJoin{
    "federationsender_join",
    "INSERT INTO federationsender_joined_members (room_id, user_id, server_name) "
    "VALUES ($1, $2, $3) ON CONFLICT (room_id, user_id) DO NOTHING"};
constexpr pg::Statement kUnjoin{
    "federationsender_unjoin",
    "DELETE FROM federationsender_joined_members WHERE room_id = $1 AND user_id = $2"};
constexpr pg::Statement kEnqueue{
    "federationsender_enqueue",
    "INSERT INTO federationsender_queue (destination, event_id, event_json, committed_ts, "
    "to_peeker) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (destination, event_id) DO NOTHING"};
constexpr pg::Statement kLockDestination{
    "federationsender_lock_destination",
    "INSERT INTO federationsender_destinations (destination) VALUES ($1) "
    "ON CONFLICT (destination) DO UPDATE SET destination = EXCLUDED.destination "
    "RETURNING txn_id"};
constexpr pg::Statement kTransactionPdus{
    "federationsender_transaction_pdus",
    "SELECT event_id, event_json, committed_ts, to_peeker FROM federationsender_queue "
    "WHERE destination = $1 AND txn_id = $2 ORDER BY position"};
// The oldest PDUs not yet in a transaction, up to $3 of them and $4 bytes in all (the first one
// whatever its size): a receiver refuses bodies past its limit (1 MiB by default here), and a
// transaction it refused would otherwise be sent again, unchanged, forever.
constexpr pg::Statement kClaimPdus{
    "federationsender_claim_pdus",
    "UPDATE federationsender_queue SET txn_id = $2 WHERE position IN ("
    "  SELECT position FROM ("
    "    SELECT position, sum(octet_length(event_json)) OVER (ORDER BY position) AS running "
    "    FROM federationsender_queue WHERE destination = $1 AND txn_id IS NULL "
    "    ORDER BY position LIMIT $3) head "
    "  WHERE running <= $4 OR position = (SELECT min(position) FROM federationsender_queue "
    "    WHERE destination = $1 AND txn_id IS NULL)) "
    "RETURNING position, event_id, event_json, committed_ts, to_peeker"};
constexpr pg::Statement kSetTransaction{
    "federationsender_set_transaction",
    "UPDATE federationsender_destinations SET txn_id = $2 WHERE destination = $1"};
constexpr pg::Statement kDeleteTransactionPdus{
    "federationsender_delete_transaction_pdus",
    "DELETE FROM federationsender_queue WHERE destination = $1 AND txn_id = $2"};
constexpr pg::Statement kClearTransaction{
    "federationsender_clear_transaction",
    "UPDATE federationsender_destinations SET txn_id = NULL, failures = 0, retry_at_ts = 0 "
    "WHERE destination = $1 AND txn_id = $2"};
constexpr pg::Statement kSelectBackoff{
    "federationsender_select_backoff",
    "SELECT failures, retry_at_ts FROM federationsender_destinations WHERE destination = $1"};
constexpr pg::Statement kUpsertBackoff{
    "federationsender_upsert_backoff",
    "INSERT INTO federationsender_destinations (destination, failures, retry_at_ts) "
    "VALUES ($1, $2, $3) ON CONFLICT (destination) DO UPDATE SET failures = EXCLUDED.failures, "
    "retry_at_ts = EXCLUDED.retry_at_ts"};
constexpr pg::Statement kDestinationsWithWork{
    "federationsender_destinations_with_work",
    "SELECT destination FROM federationsender_queue UNION "
    "SELECT destination FROM federationsender_expired_peeks ORDER BY destination"};
// The servers in a room (TRUE) and those peeking into it (FALSE), each list in name order.
constexpr pg::Statement kRoomServers{
    "federationsender_room_servers",
    "SELECT TRUE, server_name FROM federationsender_joined_members WHERE room_id = $1 UNION "
    "SELECT FALSE, server_name FROM federationsender_inbound_peeks WHERE room_id = $1 "
    "ORDER BY 1 DESC, 2"};
constexpr pg::Statement kUpsertInboundPeek{
    "federationsender_upsert_inbound_peek",
    "INSERT INTO federationsender_inbound_peeks (room_id, server_name, peek_id, latest_event_id, "
    "renewed_ts, renewal_interval_ms) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (room_id, server_name, peek_id) DO UPDATE SET "
    "latest_event_id = EXCLUDED.latest_event_id, renewed_ts = EXCLUDED.renewed_ts, "
    "renewal_interval_ms = EXCLUDED.renewal_interval_ms"};
// The room's peeks end: each peeking server is told, once per peek.
constexpr pg::Statement kEndRoomPeeks{
    "federationsender_end_room_peeks",
    "WITH gone AS (DELETE FROM federationsender_inbound_peeks WHERE room_id = $1 "
    "RETURNING room_id, server_name, peek_id) "
    "INSERT INTO federationsender_expired_peeks (destination, room_id, peek_id) "
    "SELECT server_name, room_id, peek_id FROM gone RETURNING destination"};
// One server's peeks of the room end (the room's server ACL came to deny it).
constexpr pg::Statement kEndServerPeeks{
    "federationsender_end_server_peeks",
    "WITH gone AS (DELETE FROM federationsender_inbound_peeks WHERE room_id = $1 AND "
    "server_name = $2 RETURNING room_id, server_name, peek_id) "
    "INSERT INTO federationsender_expired_peeks (destination, room_id, peek_id) "
    "SELECT server_name, room_id, peek_id FROM gone RETURNING destination"};
constexpr pg::Statement kEvictPeeks{
    "federationsender_evict_peeks",
    "WITH gone AS (DELETE FROM federationsender_inbound_peeks "
    "WHERE renewed_ts + renewal_interval_ms < $1 RETURNING room_id, server_name, peek_id) "
    "INSERT INTO federationsender_expired_peeks (destination, room_id, peek_id) "
    "SELECT server_name, room_id, peek_id FROM gone RETURNING destination"};
constexpr pg::Statement kSelectInboundPeeks{
    "federationsender_select_inbound_peeks",
    "SELECT room_id, server_name, peek_id, latest_event_id, renewed_ts, renewal_interval_ms "
    "FROM federationsender_inbound_peeks WHERE ($1 = '' OR room_id = $1) AND "
    "($2 = '' OR server_name = $2) AND ($3 = '' OR peek_id = $3) "
    "ORDER BY room_id, server_name, peek_id"};
constexpr pg::Statement kRenewInboundPeek{
    "federationsender_renew_inbound_peek",
    "UPDATE federationsender_inbound_peeks SET renewed_ts = $4, renewal_interval_ms = $5 "
    "WHERE room_id = $1 AND server_name = $2 AND peek_id = $3 "
    "RETURNING room_id, server_name, peek_id, latest_event_id, renewed_ts, renewal_interval_ms"};
constexpr pg::Statement kDeleteInboundPeek{
    "federationsender_delete_inbound_peek",
    "DELETE FROM federationsender_inbound_peeks "
    "WHERE room_id = $1 AND server_name = $2 AND peek_id = $3"};
constexpr pg::Statement kInboundPeekCount{"federationsender_inbound_peek_count",
                                          "SELECT count(*) FROM federationsender_inbound_peeks"};
constexpr pg::Statement kTransactionExpiredPeeks{
    "federationsender_transaction_expired_peeks",
    "SELECT room_id, peek_id FROM federationsender_expired_peeks WHERE destination = $1 AND "
    "txn_id = $2 ORDER BY position"};
constexpr pg::Statement kClaimExpiredPeeks{
    "federationsender_claim_expired_peeks",
    "UPDATE federationsender_expired_peeks SET txn_id = $2 WHERE position IN ("
    "  SELECT position FROM federationsender_expired_peeks WHERE destination = $1 AND "
    "  txn_id IS NULL ORDER BY position LIMIT $3) "
    "RETURNING position, room_id, peek_id"};
constexpr pg::Statement kMoreQueued{
    "federationsender_more_queued",
    "SELECT EXISTS (SELECT 1 FROM federationsender_queue WHERE destination = $1 AND "
    "txn_id IS NULL) OR EXISTS (SELECT 1 FROM federationsender_expired_peeks WHERE "
    "destination = $1 AND txn_id IS NULL)"};
constexpr pg::Statement kDeleteTransactionExpiredPeeks{
    "federationsender_delete_transaction_expired_peeks",
    "DELETE FROM federationsender_expired_peeks WHERE destination = $1 AND txn_id = $2"};

constexpr pg::Statement kAddLocalPeeker{
    "federationsender_add_local_peeker",
    "INSERT INTO federationsender_local_peekers (room_id, user_id, device_id) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING"};
constexpr pg::Statement kRemoveLocalPeeker{
    "federationsender_remove_local_peeker",
    "DELETE FROM federationsender_local_peekers WHERE room_id = $1 AND user_id = $2 AND "
    "device_id = $3"};
constexpr pg::Statement kLocalPeekers{
    "federationsender_local_peekers",
    "SELECT user_id, device_id FROM federationsender_local_peekers WHERE room_id = $1 "
    "ORDER BY user_id, device_id"};
constexpr pg::Statement kPutOutboundPeek{
    "federationsender_put_outbound_peek",
    "INSERT INTO federationsender_outbound_peeks (room_id, server_name, peek_id, renewed_ts, "
    "renewal_interval_ms, created_ts) VALUES ($1, $2, $3, $4, $5, $4) "
    "ON CONFLICT (room_id, server_name, peek_id) "
    "DO UPDATE SET renewed_ts = EXCLUDED.renewed_ts, "
    "renewal_interval_ms = EXCLUDED.renewal_interval_ms, created_ts = EXCLUDED.created_ts, "
    "confirmed = false"};
constexpr pg::Statement kOutboundPeeks{
    "federationsender_outbound_peeks",
    "SELECT room_id, server_name, peek_id, renewed_ts, renewal_interval_ms, created_ts, "
    "confirmed FROM federationsender_outbound_peeks WHERE ($1 = '' OR room_id = $1) "
    "ORDER BY room_id, server_name, peek_id"};
constexpr pg::Statement kConfirmOutboundPeeks{
    "federationsender_confirm_outbound_peeks",
    "UPDATE federationsender_outbound_peeks SET confirmed = true WHERE room_id = $1 AND "
    "NOT confirmed"};
// A renewal updates the peek if it is still held (never brings back one that ended meanwhile).
constexpr pg::Statement kRenewOutboundPeek{
    "federationsender_renew_outbound_peek",
    "UPDATE federationsender_outbound_peeks SET renewed_ts = $4, renewal_interval_ms = $5 "
    "WHERE room_id = $1 AND server_name = $2 AND peek_id = $3"};
constexpr pg::Statement kDeleteOutboundPeek{
    "federationsender_delete_outbound_peek",
    "DELETE FROM federationsender_outbound_peeks WHERE room_id = $1 AND server_name = $2 AND "
    "peek_id = $3"};

std::vector<InboundPeekRecord> PeekRows(const pg::Result& r) {
  std::vector<InboundPeekRecord> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.Text(i, 0)), std::string(r.Text(i, 1)), std::string(r.Text(i, 2)),
                   std::string(r.Text(i, 3)), r.Int(i, 4), r.Int(i, 5)});
  }
  return out;
}

void AddUnique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}
constexpr pg::Statement kQueuedPdus{"federationsender_queued_pdus",
                                    "SELECT count(*) FROM federationsender_queue"};
constexpr pg::Statement kInBackoff{
    "federationsender_in_backoff",
    "SELECT count(*) FROM federationsender_destinations WHERE retry_at_ts > $1"};

}  // namespace

const std::vector<pg::Migration>& FederationSenderMigrations() {
  static const std::vector<pg::Migration> kMigrations = {
      {1, "joined servers, room sequences and destination queues", kSchemaV1},
      {2, "inbound peeks and the expired peeks to tell", kSchemaV2},
      {3, "outbound peeks and local peekers", kSchemaV3},
      {4, "outbound peeks confirmed by their device", kSchemaV4},
      {5, "when each queued PDU was written, and whether it goes to a peeking server", kSchemaV5},
  };
  return kMigrations;
}

absl::StatusOr<std::optional<std::vector<std::string>>> PgQueueStore::Apply(
    const RoomEventToQueue& event, const std::string& our_server) {
  std::optional<std::vector<std::string>> out;
  absl::Status s = pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    out.reset();
    // Writes whose answers are not needed are deferred: they go with the COMMIT, so the common
    // case is two round trips (with BEGIN: the sequence and the servers; the rest with COMMIT).
    const bool room_event =
        !event.local_peeker && !event.new_inbound_peek && !event.inbound_peek_end;
    std::vector<pg::Call> reads = {{kLockRoomSequence, {event.room_id}}};
    if (room_event) reads.push_back({kRoomServers, {event.room_id}});
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<pg::Result> read, c.QueryAll(reads));
    const pg::Result& seq = read[0];
    if (seq.rows() > 0 && seq.Int(0, 0) >= event.room_sequence) return absl::OkStatus();
    std::vector<std::string> destinations;
    // Whether this transaction records more than how far the room's stream was read.
    bool records_more = true;
    if (const std::optional<LocalPeekerChange>& peeker = event.local_peeker) {
      c.Defer(peeker->peeking ? kAddLocalPeeker : kRemoveLocalPeeker,
              {event.room_id, peeker->user_id, peeker->device_id});
      if (peeker->peeking) c.Defer(kConfirmOutboundPeeks, {event.room_id});
    } else if (const std::optional<InboundPeekRecord>& peek = event.new_inbound_peek) {
      c.Defer(kUpsertInboundPeek,
              {event.room_id, peek->server_name, peek->peek_id, peek->latest_event_id,
               peek->renewed_ts, peek->renewal_interval_ms});
    } else if (const std::optional<InboundPeekEnd>& end = event.inbound_peek_end) {
      c.Defer(kDeleteInboundPeek, {event.room_id, end->server_name, end->peek_id});
    } else {
      std::vector<std::string> joined_servers, peeking_servers;
      for (int i = 0; i < read[1].rows(); ++i) {
        (read[1].Bool(i, 0) ? joined_servers : peeking_servers).emplace_back(read[1].Text(i, 1));
      }
      auto eligible = [&](const std::string& server) {
        return server != our_server && server != event.not_to;
      };
      if (event.send) {
        for (const std::string& server : joined_servers) {
          if (eligible(server)) AddUnique(destinations, server);
        }
      }
      // Peeking servers get every event: the origin of one that came over federation does not
      // know them. A joined server gets it from its origin, and the origin has it already.
      std::vector<std::string> peekers;  // destinations only because they peek
      for (std::string server : peeking_servers) {
        const bool is_joined =
            std::find(joined_servers.begin(), joined_servers.end(), server) != joined_servers.end();
        if (!eligible(server)) continue;
        if (!event.send && (is_joined || server == event.origin)) continue;
        if (!is_joined &&
            std::find(destinations.begin(), destinations.end(), server) == destinations.end()) {
          peekers.push_back(server);
        }
        AddUnique(destinations, std::move(server));
      }
      for (const std::string& d : destinations) {
        const bool to_peeker = std::find(peekers.begin(), peekers.end(), d) != peekers.end();
        c.Defer(kEnqueue, {d, event.event_id, event.event_json, event.committed_ts, to_peeker});
      }
      for (const MembershipChange& m : event.memberships) {
        if (m.joined) {
          c.Defer(kJoin, {event.room_id, m.user_id, m.server_name});
        } else {
          c.Defer(kUnjoin, {event.room_id, m.user_id});
        }
      }
      records_more = !destinations.empty() || !event.memberships.empty() ||
                     event.ends_inbound_peeks || !event.new_server_acl_json.empty();
      if (event.ends_inbound_peeks) {
        PERISCOPE_ASSIGN_OR_RETURN(pg::Result told, c.Query(kEndRoomPeeks, {event.room_id}));
        for (int i = 0; i < told.rows(); ++i) AddUnique(destinations, std::string(told.Text(i, 0)));
      } else if (!event.new_server_acl_json.empty()) {
        const matrix::Json acl = matrix::Json::parse(event.new_server_acl_json, nullptr, false);
        for (std::string server : peeking_servers) {
          if (matrix::ServerAllowedByAcl(acl, server)) continue;
          PERISCOPE_ASSIGN_OR_RETURN(pg::Result told,
                                     c.Query(kEndServerPeeks, {event.room_id, server}));
          if (told.rows() > 0) AddUnique(destinations, std::move(server));
        }
      }
    }
    // An event that goes nowhere and changes nothing here (a room of ours alone, the common case)
    // only moves the room's sequence: that commit is not waited for on disk. Lost in a crash, it
    // leaves the sequence behind, so a redelivery of the event is handled again, to the same
    // nothing; any later durable commit flushes it first.
    if (!records_more) c.DeferExecute("SET LOCAL synchronous_commit TO OFF");
    c.Defer(kUpsertRoomSequence, {event.room_id, event.room_sequence});
    out = std::move(destinations);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<std::string>> PgQueueStore::JoinedServers(const std::string& room_id) {
  absl::StatusOr<pg::Result> r = pool_.Query(kJoinedServers, {room_id});
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->Text(i, 0));
  return out;
}

absl::StatusOr<std::optional<PendingTransaction>> PgQueueStore::NextTransaction(
    const std::string& destination, const std::string& new_txn_id, int max_pdus) {
  std::optional<PendingTransaction> out;
  absl::Status s = pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    out.reset();
    // Locks the destination's row: one chooser of its transaction at a time.
    absl::StatusOr<pg::Result> dest = c.Query(kLockDestination, {destination});
    if (!dest.ok()) return dest.status();
    if (!dest->IsNull(0, 0)) {
      PendingTransaction txn{std::string(dest->Text(0, 0)), {}, {}};
      absl::StatusOr<pg::Result> pdus = c.Query(kTransactionPdus, {destination, txn.txn_id});
      if (!pdus.ok()) return pdus.status();
      for (int i = 0; i < pdus->rows(); ++i) {
        txn.pdus.push_back({std::string(pdus->Text(i, 0)), std::string(pdus->Text(i, 1)),
                            pdus->Int(i, 2), pdus->Bool(i, 3)});
      }
      PERISCOPE_ASSIGN_OR_RETURN(pg::Result expired,
                                 c.Query(kTransactionExpiredPeeks, {destination, txn.txn_id}));
      for (int i = 0; i < expired.rows(); ++i) {
        txn.expired_peeks.push_back(
            {std::string(expired.Text(i, 0)), std::string(expired.Text(i, 1))});
      }
      if (!txn.pdus.empty() || !txn.expired_peeks.empty()) {
        out = std::move(txn);
        return absl::OkStatus();
      }
      // A recorded transaction whose PDUs are gone: start afresh.
    }
    absl::StatusOr<pg::Result> claimed =
        c.Query(kClaimPdus, {destination, new_txn_id, max_pdus, kMaxTransactionBytes});
    if (!claimed.ok()) return claimed.status();
    PERISCOPE_ASSIGN_OR_RETURN(
        pg::Result expired,
        c.Query(kClaimExpiredPeeks, {destination, new_txn_id, kMaxExpiredPeeksPerTransaction}));
    if (claimed->rows() == 0 && expired.rows() == 0) {
      return c.Query(kSetTransaction, {destination, nullptr}).status();
    }
    std::vector<std::pair<int64_t, QueuedPdu>> rows;
    for (int i = 0; i < claimed->rows(); ++i) {
      rows.push_back({claimed->Int(i, 0),
                      {std::string(claimed->Text(i, 1)), std::string(claimed->Text(i, 2)),
                       claimed->Int(i, 3), claimed->Bool(i, 4)}});
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    PendingTransaction txn{new_txn_id, {}, {}};
    for (auto& [position, pdu] : rows) txn.pdus.push_back(std::move(pdu));
    std::vector<std::pair<int64_t, ExpiredPeek>> ended;
    for (int i = 0; i < expired.rows(); ++i) {
      ended.push_back(
          {expired.Int(i, 0), {std::string(expired.Text(i, 1)), std::string(expired.Text(i, 2))}});
    }
    std::sort(ended.begin(), ended.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [position, peek] : ended) txn.expired_peeks.push_back(std::move(peek));
    if (auto r = c.Query(kSetTransaction, {destination, new_txn_id}); !r.ok()) return r.status();
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result more, c.Query(kMoreQueued, {destination}));
    txn.more_queued = more.Bool(0, 0);
    out = std::move(txn);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status PgQueueStore::CompleteTransaction(const std::string& destination,
                                               const std::string& txn_id) {
  return pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    // A lost completion is harmless (see the interface), and the next transaction's durable
    // commit flushes this one's with it: one WAL flush per transaction sent, not two.
    PERISCOPE_RETURN_IF_ERROR(c.Execute("SET LOCAL synchronous_commit TO OFF"));
    if (auto r = c.Query(kDeleteTransactionPdus, {destination, txn_id}); !r.ok()) {
      return r.status();
    }
    PERISCOPE_RETURN_IF_ERROR(
        c.Query(kDeleteTransactionExpiredPeeks, {destination, txn_id}).status());
    return c.Query(kClearTransaction, {destination, txn_id}).status();
  });
}

absl::StatusOr<DestinationBackoff> PgQueueStore::Backoff(const std::string& destination) {
  absl::StatusOr<pg::Result> r = pool_.Query(kSelectBackoff, {destination});
  if (!r.ok()) return r.status();
  DestinationBackoff out;
  if (r->rows() > 0) {
    out.failures = static_cast<int>(r->Int(0, 0));
    out.retry_at = r->Int(0, 1) == 0 ? absl::InfinitePast() : absl::FromUnixMillis(r->Int(0, 1));
  }
  return out;
}

absl::Status PgQueueStore::SetBackoff(const std::string& destination, DestinationBackoff backoff) {
  int64_t retry_ms =
      backoff.retry_at == absl::InfinitePast() ? 0 : absl::ToUnixMillis(backoff.retry_at);
  return pool_.Query(kUpsertBackoff, {destination, backoff.failures, retry_ms}).status();
}

absl::StatusOr<std::vector<std::string>> PgQueueStore::DestinationsWithWork() {
  absl::StatusOr<pg::Result> r = pool_.Query(kDestinationsWithWork);
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->Text(i, 0));
  return out;
}

absl::StatusOr<int64_t> PgQueueStore::QueuedPdus() {
  absl::StatusOr<pg::Result> r = pool_.Query(kQueuedPdus);
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

absl::StatusOr<int64_t> PgQueueStore::DestinationsInBackoff(absl::Time now) {
  absl::StatusOr<pg::Result> r = pool_.Query(kInBackoff, {absl::ToUnixMillis(now)});
  if (!r.ok()) return r.status();
  return r->Int(0, 0);
}

absl::StatusOr<std::vector<InboundPeekRecord>> PgQueueStore::InboundPeeks(
    const std::string& room_id, const std::string& server_name, const std::string& peek_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                             pool_.Query(kSelectInboundPeeks, {room_id, server_name, peek_id}));
  return PeekRows(r);
}

absl::StatusOr<std::optional<InboundPeekRecord>> PgQueueStore::RenewInboundPeek(
    const std::string& room_id, const std::string& server_name, const std::string& peek_id,
    int64_t now_ms, int64_t interval_ms) {
  PERISCOPE_ASSIGN_OR_RETURN(
      pg::Result r,
      pool_.Query(kRenewInboundPeek, {room_id, server_name, peek_id, now_ms, interval_ms}));
  std::vector<InboundPeekRecord> rows = PeekRows(r);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

absl::StatusOr<bool> PgQueueStore::DeleteInboundPeek(const std::string& room_id,
                                                     const std::string& server_name,
                                                     const std::string& peek_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                             pool_.Query(kDeleteInboundPeek, {room_id, server_name, peek_id}));
  return r.affected() > 0;
}

absl::StatusOr<std::vector<std::string>> PgQueueStore::EvictInboundPeeks(int64_t now_ms) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kEvictPeeks, {now_ms}));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0));
  return out;
}

absl::StatusOr<int64_t> PgQueueStore::InboundPeekCount() {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kInboundPeekCount));
  return r.Int(0, 0);
}

absl::Status PgQueueStore::PutOutboundPeek(const OutboundPeekRecord& peek) {
  return pool_
      .Query(kPutOutboundPeek, {peek.room_id, peek.server_name, peek.peek_id, peek.renewed_ts,
                                peek.renewal_interval_ms})
      .status();
}

absl::StatusOr<std::vector<OutboundPeekRecord>> PgQueueStore::OutboundPeeks(
    const std::string& room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kOutboundPeeks, {room_id}));
  std::vector<OutboundPeekRecord> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.Text(i, 0)), std::string(r.Text(i, 1)), std::string(r.Text(i, 2)),
                   r.Int(i, 3), r.Int(i, 4), r.Int(i, 5), r.Bool(i, 6)});
  }
  return out;
}

absl::StatusOr<bool> PgQueueStore::DeleteOutboundPeek(const std::string& room_id,
                                                      const std::string& server_name,
                                                      const std::string& peek_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                             pool_.Query(kDeleteOutboundPeek, {room_id, server_name, peek_id}));
  return r.affected() > 0;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> PgQueueStore::LocalPeekers(
    const std::string& room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kLocalPeekers, {room_id}));
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0), r.Text(i, 1));
  return out;
}

absl::StatusOr<bool> PgQueueStore::RenewOutboundPeek(const OutboundPeekRecord& peek) {
  PERISCOPE_ASSIGN_OR_RETURN(
      pg::Result r, pool_.Query(kRenewOutboundPeek, {peek.room_id, peek.server_name, peek.peek_id,
                                                     peek.renewed_ts, peek.renewal_interval_ms}));
  return r.affected() > 0;
}

}  // namespace periscope::federationsender
