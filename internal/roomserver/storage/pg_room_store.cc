#include "internal/roomserver/storage/pg_room_store.h"

#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "internal/roomserver/storage/pg_state_group_store.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/pg/array.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

constexpr absl::string_view kSchemaV1 = R"sql(
CREATE TABLE roomserver_rooms (
  room_id TEXT PRIMARY KEY,
  room_version INT NOT NULL,
  created_ts BIGINT NOT NULL,
  -- Listed in the public room directory.
  published BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE roomserver_events (
  event_nid BIGSERIAL PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  room_id TEXT NOT NULL REFERENCES roomserver_rooms (room_id),
  event_type TEXT NOT NULL,
  state_key TEXT,
  sender TEXT NOT NULL,
  depth BIGINT NOT NULL,
  -- The canonical JSON, exactly as hashed and signed.
  event_json TEXT NOT NULL
);
CREATE INDEX roomserver_events_by_room ON roomserver_events (room_id, event_nid);
CREATE TABLE roomserver_current_state (
  room_id TEXT NOT NULL REFERENCES roomserver_rooms (room_id),
  event_type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  -- For m.room.member: the membership, so "rooms of a user" is an index scan.
  membership TEXT,
  PRIMARY KEY (room_id, event_type, state_key)
);
CREATE INDEX roomserver_current_memberships ON roomserver_current_state (state_key, membership)
  WHERE event_type = 'm.room.member';
CREATE TABLE roomserver_forward_extremities (
  room_id TEXT NOT NULL REFERENCES roomserver_rooms (room_id),
  event_id TEXT NOT NULL,
  depth BIGINT NOT NULL,
  PRIMARY KEY (room_id, event_id)
);
-- Client transaction ids: a retried PUT /send/{type}/{txnId} returns the first event id.
CREATE TABLE roomserver_transactions (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, txn_id)
);
CREATE TABLE roomserver_aliases (
  alias TEXT PRIMARY KEY,
  room_id TEXT NOT NULL REFERENCES roomserver_rooms (room_id),
  creator TEXT NOT NULL
);
-- Output-stream messages written with the change they describe, published after commit in
-- position order, then deleted.
CREATE TABLE roomserver_outbox (
  position BIGSERIAL PRIMARY KEY,
  msg_id TEXT NOT NULL,
  subject_suffix TEXT NOT NULL,
  payload TEXT NOT NULL
);
)sql";

constexpr absl::string_view kSchemaV2 = R"sql(
-- Local devices peeking into rooms (MSC2753): who is looking, so that the roomserver can answer
-- "is anyone still looking?" for each room.
CREATE TABLE roomserver_local_peeks (
  room_id TEXT NOT NULL REFERENCES roomserver_rooms (room_id),
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  expiry_ts BIGINT NOT NULL,
  PRIMARY KEY (room_id, user_id, device_id)
);
)sql";

constexpr absl::string_view kSchemaV3 = R"sql(
-- Each room's output-stream sequence: the room_sequence of its latest outbox message, so that
-- consumers can tell a redelivered message from a new one (see api/output_stream.h).
ALTER TABLE roomserver_rooms ADD COLUMN output_seq BIGINT NOT NULL DEFAULT 0;
)sql";

constexpr absl::string_view kSchemaV4 = R"sql(
-- The state before and after every event, as state groups (storage/state_group_store.h): an
-- immutable state map stored as the keys that changed from an earlier group (prev_group, always a
-- smaller id) or, with no prev_group, whole. A NULL event_nid is a key the delta removes.
CREATE TABLE roomserver_state_groups (
  state_group BIGSERIAL PRIMARY KEY,
  room_id TEXT NOT NULL REFERENCES roomserver_rooms (room_id),
  prev_group BIGINT REFERENCES roomserver_state_groups (state_group),
  -- Deltas from here to a whole snapshot.
  hops INT NOT NULL,
  CHECK (prev_group IS NULL OR prev_group < state_group)
);
CREATE TABLE roomserver_state_group_entries (
  state_group BIGINT NOT NULL REFERENCES roomserver_state_groups (state_group),
  event_type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_nid BIGINT REFERENCES roomserver_events (event_nid),
  PRIMARY KEY (state_group, event_type, state_key)
);
-- 0 is the empty state (before m.room.create, and an outlier's).
ALTER TABLE roomserver_events
  ADD COLUMN state_before BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN state_after BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN outlier BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN rejected BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN soft_failed BOOLEAN NOT NULL DEFAULT FALSE;
-- The DAG's edges: which events name which as a prev event.
CREATE TABLE roomserver_prev_events (
  prev_event_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (prev_event_id, event_id)
);
-- The group of the current state (the resolution of the forward extremities' states).
ALTER TABLE roomserver_rooms ADD COLUMN state_group BIGINT NOT NULL DEFAULT 0;

INSERT INTO roomserver_prev_events (prev_event_id, event_id)
  SELECT DISTINCT p.prev_id, e.event_id FROM roomserver_events e,
    jsonb_array_elements_text(e.event_json::jsonb -> 'prev_events') AS p(prev_id);

-- Rooms written before this version have a linear history (local events only, each naming the
-- one previous event): replay it, giving each state event a group, as the roomserver would have.
DO $replay$
DECLARE
  ev RECORD;
  room TEXT := NULL;
  grp BIGINT := 0;
  grp_hops INT := 0;
  next_grp BIGINT;
BEGIN
  FOR ev IN SELECT event_nid, room_id, event_type, state_key FROM roomserver_events
            ORDER BY room_id, event_nid LOOP
    IF room IS DISTINCT FROM ev.room_id THEN
      IF room IS NOT NULL THEN
        UPDATE roomserver_rooms SET state_group = grp WHERE room_id = room;
      END IF;
      room := ev.room_id;
      grp := 0;
      grp_hops := 0;
    END IF;
    UPDATE roomserver_events SET state_before = grp WHERE event_nid = ev.event_nid;
    IF ev.state_key IS NOT NULL THEN
      IF grp <> 0 AND grp_hops < 100 THEN
        INSERT INTO roomserver_state_groups (room_id, prev_group, hops)
          VALUES (ev.room_id, grp, grp_hops + 1) RETURNING state_group INTO next_grp;
        grp_hops := grp_hops + 1;
      ELSE
        INSERT INTO roomserver_state_groups (room_id, prev_group, hops)
          VALUES (ev.room_id, NULL, 0) RETURNING state_group INTO next_grp;
        INSERT INTO roomserver_state_group_entries (state_group, event_type, state_key, event_nid)
          WITH RECURSIVE chain(state_group, prev_group) AS (
            SELECT g.state_group, g.prev_group FROM roomserver_state_groups g
              WHERE g.state_group = grp
            UNION ALL
            SELECT g.state_group, g.prev_group FROM roomserver_state_groups g
              JOIN chain c ON g.state_group = c.prev_group)
          SELECT next_grp, s.event_type, s.state_key, s.event_nid FROM (
            SELECT DISTINCT ON (x.event_type, x.state_key) x.event_type, x.state_key, x.event_nid
            FROM roomserver_state_group_entries x JOIN chain USING (state_group)
            ORDER BY x.event_type, x.state_key, x.state_group DESC) s
          WHERE s.event_nid IS NOT NULL
            AND NOT (s.event_type = ev.event_type AND s.state_key = ev.state_key);
        grp_hops := 0;
      END IF;
      INSERT INTO roomserver_state_group_entries (state_group, event_type, state_key, event_nid)
        VALUES (next_grp, ev.event_type, ev.state_key, ev.event_nid);
      grp := next_grp;
    END IF;
    UPDATE roomserver_events SET state_after = grp WHERE event_nid = ev.event_nid;
  END LOOP;
  IF room IS NOT NULL THEN
    UPDATE roomserver_rooms SET state_group = grp WHERE room_id = room;
  END IF;
END
$replay$;
)sql";

// A room's forward extremities live in its row, updated in place under the room lock: as rows of
// their own (deleted and inserted by every send) their index filled with dead entries in a busy
// room, and reading them cost more than the rest of a send's reads together.
constexpr absl::string_view kSchemaV5 = R"sql(
ALTER TABLE roomserver_rooms ADD COLUMN extremities JSONB NOT NULL DEFAULT '[]';
UPDATE roomserver_rooms r SET extremities = COALESCE(
  (SELECT jsonb_agg(jsonb_build_array(f.event_id, f.depth) ORDER BY f.event_id)
   FROM roomserver_forward_extremities f WHERE f.room_id = r.room_id), '[]');
DROP TABLE roomserver_forward_extremities;
)sql";

// When each output message was queued: a NATS outage under little traffic never makes the outbox
// deep, but it does make it old.
constexpr absl::string_view kSchemaV6 = R"sql(
ALTER TABLE roomserver_outbox ADD COLUMN queued_at TIMESTAMPTZ NOT NULL DEFAULT now();
)sql";

// The write knows the new value (it read the row under the lock): nothing to wait for.
constexpr pg::Statement kBumpOutputSeq{
    "roomserver_bump_output_seq",
    "UPDATE roomserver_rooms SET output_seq = output_seq + 1 WHERE room_id = $1"};

constexpr pg::Statement kOutputSeq{"roomserver_output_seq",
                                   "SELECT output_seq FROM roomserver_rooms WHERE room_id = $1"};

constexpr pg::Statement kPutLocalPeek{
    "roomserver_put_local_peek",
    "INSERT INTO roomserver_local_peeks (room_id, user_id, device_id, expiry_ts) VALUES "
    "($1, $2, $3, $4) ON CONFLICT (room_id, user_id, device_id) DO UPDATE SET expiry_ts = "
    "EXCLUDED.expiry_ts"};
constexpr pg::Statement kRemoveLocalPeek{
    "roomserver_remove_local_peek",
    "DELETE FROM roomserver_local_peeks WHERE room_id = $1 AND user_id = $2 AND device_id = $3"};
constexpr pg::Statement kLocalPeeks{
    "roomserver_local_peeks",
    "SELECT user_id, device_id, expiry_ts FROM roomserver_local_peeks WHERE room_id = $1 "
    "ORDER BY user_id, device_id"};

std::vector<LocalPeek> PeeksFromRows(const pg::Result& r) {
  std::vector<LocalPeek> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.Text(i, 0)), std::string(r.Text(i, 1)), r.Int(i, 2)});
  }
  return out;
}

constexpr pg::Statement kInsertRoom{
    "roomserver_insert_room",
    "INSERT INTO roomserver_rooms (room_id, room_version, created_ts) VALUES ($1, $2, $3)"};
// The room's row, locked for the write, with what a send reads of it. The extremities come as
// the row's own column, not expanded by a join: a write that waited for the lock gets the row
// as the previous writer committed it, but rows joined to it would be those read before the wait.
constexpr pg::Statement kLockRoom{
    "roomserver_lock_room",
    "SELECT room_version, output_seq, state_group, extremities FROM roomserver_rooms WHERE "
    "room_id = $1 FOR UPDATE"};
constexpr pg::Statement kRoomVersion{
    "roomserver_room_version", "SELECT room_version FROM roomserver_rooms WHERE room_id = $1"};
constexpr pg::Statement kStateEvent{
    "roomserver_state_event",
    "SELECT e.event_id, e.event_json FROM roomserver_current_state s JOIN roomserver_events e "
    "USING (event_id) WHERE s.room_id = $1 AND s.event_type = $2 AND s.state_key = $3"};
// Several keys in one round trip; the lateral lookup is one primary-key probe per key, whatever
// the size of the room's state.
constexpr pg::Statement kStateEvents{
    "roomserver_state_events",
    "SELECT x.event_id, x.event_json FROM unnest($2::text[], $3::text[]) AS k(event_type, "
    "state_key) CROSS JOIN LATERAL (SELECT e.event_id, e.event_json FROM roomserver_current_state "
    "s JOIN roomserver_events e USING (event_id) WHERE s.room_id = $1 AND s.event_type = "
    "k.event_type AND s.state_key = k.state_key) x"};
constexpr pg::Statement kAllState{
    "roomserver_all_state",
    "SELECT e.event_id, e.event_json FROM roomserver_current_state s JOIN roomserver_events e "
    "USING (event_id) WHERE s.room_id = $1 ORDER BY s.event_type, s.state_key"};
// Each extremity is [event_id, depth].
constexpr pg::Statement kExtremities{
    "roomserver_extremities",
    "SELECT x->>0, (x->>1)::bigint FROM roomserver_rooms, jsonb_array_elements(extremities) x "
    "WHERE room_id = $1"};
constexpr pg::Statement kInsertEvent{
    "roomserver_insert_event",
    "INSERT INTO roomserver_events (event_id, room_id, event_type, state_key, sender, depth, "
    "event_json, state_before, state_after, outlier, rejected, soft_failed) VALUES ($1, $2, $3, "
    "$4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (event_id) DO UPDATE SET state_before = "
    "EXCLUDED.state_before, state_after = EXCLUDED.state_after, outlier = FALSE, rejected = "
    "FALSE, soft_failed = FALSE WHERE roomserver_events.outlier AND NOT EXCLUDED.outlier AND NOT "
    "EXCLUDED.rejected AND NOT EXCLUDED.soft_failed AND roomserver_events.room_id = "
    "EXCLUDED.room_id RETURNING event_nid"};
constexpr pg::Statement kInsertPrevEvents{
    "roomserver_insert_prev_events",
    "INSERT INTO roomserver_prev_events (prev_event_id, event_id) SELECT DISTINCT p, $2 FROM "
    "unnest($1::text[]) AS p ON CONFLICT DO NOTHING"};
// An outlier received again as a timeline event, and accepted there, is placed: its row (and the
// JSON it was first stored with, possibly redacted) stays, and takes the place. Any other second
// insert is an error (a de-outliered event that fails its checks is not appended at all).
// A new timeline event replaces its prev events as extremities, unless a stored event already
// names it as a prev event (it arrived after its child).
constexpr pg::Statement kReplaceExtremities{
    "roomserver_replace_extremities",
    "UPDATE roomserver_rooms SET extremities = COALESCE((SELECT jsonb_agg(x) FROM "
    "jsonb_array_elements(extremities) x WHERE x->>0 <> ALL($2::text[]) AND x->>0 <> $3), "
    "'[]'::jsonb) || CASE WHEN EXISTS (SELECT 1 FROM roomserver_prev_events p JOIN "
    "roomserver_events e USING (event_id) WHERE p.prev_event_id = $3 AND NOT e.outlier AND NOT "
    "e.rejected AND NOT e.soft_failed) THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_array("
    "$3::text, $4::bigint)) END WHERE room_id = $1"};
constexpr pg::Statement kEventPlace{
    "roomserver_event_place",
    "SELECT state_before, state_after, outlier, rejected, soft_failed FROM "
    "roomserver_events WHERE event_id = $1 AND room_id = $2"};
constexpr pg::Statement kSetStateAfter{
    "roomserver_set_state_after",
    "UPDATE roomserver_events SET state_after = $2 WHERE event_id = $1"};
constexpr pg::Statement kSetCurrentStateGroup{
    "roomserver_set_current_state_group",
    "UPDATE roomserver_rooms SET state_group = $2 WHERE room_id = $1"};
// Only stored events may enter the current state (the join counts them).
constexpr pg::Statement kUpsertState{
    "roomserver_upsert_state",
    "INSERT INTO roomserver_current_state (room_id, event_type, state_key, event_id, membership) "
    "SELECT $1, d.event_type, d.state_key, d.event_id, NULLIF(d.membership, '') FROM "
    "unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS d(event_type, state_key, "
    "event_id, membership) JOIN roomserver_events e ON e.event_id = d.event_id ON CONFLICT "
    "(room_id, event_type, state_key) DO UPDATE SET event_id = EXCLUDED.event_id, membership = "
    "EXCLUDED.membership"};
constexpr pg::Statement kDeleteState{
    "roomserver_delete_state",
    "DELETE FROM roomserver_current_state WHERE room_id = $1 AND (event_type, state_key) IN "
    "(SELECT * FROM unnest($2::text[], $3::text[]))"};
constexpr pg::Statement kInsertTransaction{
    "roomserver_insert_transaction",
    "INSERT INTO roomserver_transactions (user_id, device_id, txn_id, event_id) "
    "VALUES ($1, $2, $3, $4)"};
constexpr pg::Statement kTransactionEvent{
    "roomserver_transaction_event",
    "SELECT event_id FROM roomserver_transactions WHERE user_id = $1 AND device_id = $2 AND "
    "txn_id = $3"};
constexpr pg::Statement kEnqueue{
    "roomserver_enqueue_output",
    "INSERT INTO roomserver_outbox (msg_id, subject_suffix, payload) VALUES ($1, $2, $3)"};
constexpr pg::Statement kPendingOutput{
    "roomserver_pending_output",
    "SELECT position, msg_id, subject_suffix, payload FROM roomserver_outbox WHERE "
    "subject_suffix <> ALL($1::text[]) ORDER BY position LIMIT $2"};
// The database's own clock on both sides of the age.
constexpr pg::Statement kOutboxDepth{
    "roomserver_outbox_depth",
    "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(queued_at)), 0)::float8 "
    "FROM roomserver_outbox"};
// Exactly the published positions: see storage/outbox_store.h for why never "<=".
constexpr pg::Statement kDeleteOutput{
    "roomserver_delete_output", "DELETE FROM roomserver_outbox WHERE position = ANY($1::bigint[])"};
constexpr pg::Statement kStoreRedacted{
    "roomserver_store_redacted",
    "UPDATE roomserver_events SET event_json = $3 WHERE room_id = $1 AND event_id = $2"};
constexpr pg::Statement kEventById{
    "roomserver_event_by_id",
    "SELECT event_id, room_id, event_json, rejected FROM roomserver_events WHERE event_id = $1"};
constexpr pg::Statement kMembership{
    "roomserver_membership",
    "SELECT membership, event_id FROM roomserver_current_state WHERE room_id = $1 AND "
    "event_type = 'm.room.member' AND state_key = $2"};
constexpr pg::Statement kInsertAlias{
    "roomserver_insert_alias",
    "INSERT INTO roomserver_aliases (alias, room_id, creator) VALUES ($1, $2, $3)"};
constexpr pg::Statement kResolveAlias{"roomserver_resolve_alias",
                                      "SELECT room_id FROM roomserver_aliases WHERE alias = $1"};
constexpr pg::Statement kJoinedRooms{
    "roomserver_joined_rooms",
    "SELECT room_id FROM roomserver_current_state WHERE event_type = 'm.room.member' AND "
    "state_key = $1 AND membership = 'join' ORDER BY room_id"};
// A user id ends in ":" and its server's name.
constexpr pg::Statement kHasJoinedMemberOf{
    "roomserver_has_joined_member_of",
    "SELECT 1 FROM roomserver_current_state WHERE room_id = $1 AND event_type = 'm.room.member' "
    "AND membership = 'join' AND right(state_key, length($2) + 1) = ':' || $2 LIMIT 1"};
constexpr pg::Statement kReplaceStatelessVersion{
    "roomserver_replace_stateless_version",
    "UPDATE roomserver_rooms SET room_version = $2 WHERE room_id = $1 AND NOT EXISTS "
    "(SELECT 1 FROM roomserver_current_state WHERE room_id = $1) RETURNING room_id"};
// The invites of a user in a room, newest first (outliers too: an invite received
// over federation is one; never one the room refused, which anyone could have sent).
constexpr pg::Statement kInvitesOf{
    "roomserver_invites_of",
    "SELECT event_id, event_json FROM roomserver_events WHERE room_id = $1 "
    "AND event_type = 'm.room.member' "
    "AND state_key = $2 AND NOT rejected AND NOT soft_failed "
    "AND (event_json::jsonb -> 'content' ->> 'membership') = 'invite' "
    "ORDER BY event_nid DESC LIMIT 20"};
constexpr pg::Statement kAlias{"roomserver_alias",
                               "SELECT room_id, creator FROM roomserver_aliases WHERE alias = $1"};
constexpr pg::Statement kRemoveAlias{"roomserver_remove_alias",
                                     "DELETE FROM roomserver_aliases WHERE alias = $1"};
constexpr pg::Statement kPublished{"roomserver_published",
                                   "SELECT published FROM roomserver_rooms WHERE room_id = $1"};
constexpr pg::Statement kPublishedRooms{
    "roomserver_published_rooms",
    "SELECT room_id FROM roomserver_rooms WHERE published ORDER BY room_id"};
constexpr pg::Statement kSetPublished{
    "roomserver_set_published", "UPDATE roomserver_rooms SET published = $2 WHERE room_id = $1"};

absl::Status RoomNotFound(absl::string_view room_id) {
  return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                     absl::StrCat("Unknown room ", room_id));
}

// What a write knows of its room's row, read under the room's lock and kept current by the write
// (so that a send reads the row once). Unknown extremities are read when asked for.
struct RoomRow {
  int room_version = 0;
  int64_t output_seq = 0;
  int64_t state_group = 0;
  std::optional<std::vector<matrix::PrevEvent>> extremities;
};

// The extremities column is [[event_id, depth], ...].
absl::StatusOr<RoomRow> RoomRowOf(const pg::Result& r) {
  RoomRow row;
  row.room_version = static_cast<int>(r.Int(0, 0));
  row.output_seq = r.Int(0, 1);
  row.state_group = r.Int(0, 2);
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json extremities,
                             matrix::ParseJson(r.Text(0, 3), {.max_bytes = size_t{64} << 20}));
  row.extremities.emplace();
  for (const matrix::Json& e : extremities) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number_integer()) {
      return absl::InternalError(absl::StrCat("a malformed forward extremity: ", e.dump()));
    }
    row.extremities->push_back({e[0].get<std::string>(), e[1].get<int64_t>()});
  }
  return row;
}

// Statements whose answer the write does not need are deferred (pg::Connection::Defer): they go
// to PostgreSQL with the next read, or with the COMMIT. A message send is then four round trips:
// the locked row, the auth state, the event's insert, and the rest with the COMMIT.
class PgRoomWriteTxn final : public RoomWriteTxn {
 public:
  PgRoomWriteTxn(pg::Connection& conn, absl::string_view room_id, RoomRow row)
      : conn_(conn),
        room_id_(room_id),
        room_version_(row.room_version),
        row_(std::move(row)),
        state_groups_(conn, std::string(room_id)) {}

  // The row as this write leaves it.
  const RoomRow& row() const { return row_; }

  const std::string& room_id() const override { return room_id_; }
  int room_version() const override { return room_version_; }

  absl::StatusOr<matrix::AuthEvents> State(const std::vector<matrix::StateKey>& keys) override {
    matrix::AuthEvents state;
    if (keys.empty()) return state;
    std::vector<std::string> types, state_keys;
    std::set<matrix::StateKey> asked;
    for (const matrix::StateKey& key : keys) {
      if (!asked.insert(key).second) continue;  // asked twice
      types.push_back(key.first);
      state_keys.push_back(key.second);
    }
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                               conn_.Query(kStateEvents, {room_id_, pg::ArrayLiteral(types),
                                                          pg::ArrayLiteral(state_keys)}));
    for (int i = 0; i < r.rows(); ++i) {
      PERISCOPE_ASSIGN_OR_RETURN(matrix::Json event, matrix::ParseJson(r.Text(i, 1)));
      PERISCOPE_RETURN_IF_ERROR(state.Add(std::string(r.Text(i, 0)), std::move(event)));
    }
    return state;
  }

  // Read with the room's lock, and again only after this write changed them.
  absl::StatusOr<std::vector<matrix::PrevEvent>> ForwardExtremities() override {
    if (row_.extremities) return *row_.extremities;
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, conn_.Query(kExtremities, {room_id_}));
    std::vector<matrix::PrevEvent> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({std::string(r.Text(i, 0)), r.Int(i, 1)});
    row_.extremities = out;
    return out;
  }

  absl::StatusOr<std::optional<EventRecord>> Event(absl::string_view event_id) override {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, conn_.Query(kEventById, {event_id}));
    if (r.rows() == 0) return std::optional<EventRecord>();
    return std::optional<EventRecord>(EventRecord{std::string(r.Text(0, 0)),
                                                  std::string(r.Text(0, 1)),
                                                  std::string(r.Text(0, 2)), r.Bool(0, 3)});
  }

  absl::StatusOr<std::optional<EventPlace>> Place(absl::string_view event_id) override {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, conn_.Query(kEventPlace, {event_id, room_id_}));
    if (r.rows() == 0) return std::optional<EventPlace>();
    return std::optional<EventPlace>(
        EventPlace{r.Int(0, 0), r.Int(0, 1), r.Bool(0, 2), r.Bool(0, 3), r.Bool(0, 4)});
  }

  absl::Status AppendEvent(const AcceptedEvent& e) override {
    PERISCOPE_ASSIGN_OR_RETURN(
        pg::Result inserted,
        conn_.Query(kInsertEvent, {e.event_id, room_id_, e.type, e.state_key, e.sender, e.depth,
                                   e.event_json, e.place.state_before, e.place.state_after,
                                   e.place.outlier, e.place.rejected, e.place.soft_failed}));
    if (inserted.rows() == 0) {
      return absl::AlreadyExistsError(absl::StrCat("event ", e.event_id, " is already stored"));
    }
    if (!e.prev_event_ids.empty()) {
      conn_.Defer(kInsertPrevEvents, {pg::ArrayLiteral(e.prev_event_ids), e.event_id});
    }
    if (e.place.outlier || e.place.rejected || e.place.soft_failed) return absl::OkStatus();
    row_.extremities.reset();
    conn_.Defer(kReplaceExtremities,
                {room_id_, pg::ArrayLiteral(e.prev_event_ids), e.event_id, e.depth});
    return absl::OkStatus();
  }

  absl::Status SetStateAfter(absl::string_view event_id, int64_t group) override {
    conn_.Defer(kSetStateAfter, {event_id, group});
    return absl::OkStatus();
  }

  StateGroupStore& StateGroups() override { return state_groups_; }

  absl::StatusOr<int64_t> CurrentStateGroup() override { return row_.state_group; }

  absl::Status SetCurrentState(int64_t group, const StateDelta& change,
                               const std::map<std::string, std::string>& memberships) override {
    std::vector<std::string> types, keys, ids, member_values, removed_types, removed_keys;
    for (const auto& [key, id] : change) {
      if (id) {
        types.push_back(key.first);
        keys.push_back(key.second);
        ids.push_back(*id);
        auto membership = memberships.find(*id);
        member_values.push_back(membership == memberships.end() ? "" : membership->second);
      } else {
        removed_types.push_back(key.first);
        removed_keys.push_back(key.second);
      }
    }
    if (!ids.empty()) {
      PERISCOPE_ASSIGN_OR_RETURN(
          pg::Result r,
          conn_.Query(kUpsertState, {room_id_, pg::ArrayLiteral(types), pg::ArrayLiteral(keys),
                                     pg::ArrayLiteral(ids), pg::ArrayLiteral(member_values)}));
      if (r.affected() != static_cast<int64_t>(ids.size())) {
        return absl::FailedPreconditionError("the current state names events never stored");
      }
    }
    if (!removed_types.empty()) {
      conn_.Defer(kDeleteState,
                  {room_id_, pg::ArrayLiteral(removed_types), pg::ArrayLiteral(removed_keys)});
    }
    row_.state_group = group;
    conn_.Defer(kSetCurrentStateGroup, {room_id_, group});
    return absl::OkStatus();
  }

  absl::Status StoreRedacted(absl::string_view event_id, absl::string_view redacted_json) override {
    conn_.Defer(kStoreRedacted, {room_id_, event_id, redacted_json});
    return absl::OkStatus();
  }

  // A repeated transaction id fails the write (ALREADY_EXISTS) when the deferred insert is sent.
  absl::Status RecordTransaction(absl::string_view user_id, absl::string_view device_id,
                                 absl::string_view txn_id, absl::string_view event_id) override {
    conn_.Defer(kInsertTransaction, {user_id, device_id, txn_id, event_id});
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> NextOutputSequence() override {
    conn_.Defer(kBumpOutputSeq, {room_id_});
    return ++row_.output_seq;
  }

  absl::Status EnqueueOutput(absl::string_view msg_id, absl::string_view subject_suffix,
                             absl::string_view payload) override {
    queued_output_ = true;
    conn_.Defer(kEnqueue, {msg_id, subject_suffix, payload});
    return absl::OkStatus();
  }

  bool queued_output() const { return queued_output_; }

  absl::Status CreateAlias(absl::string_view alias, absl::string_view creator) override {
    absl::Status s = conn_.Query(kInsertAlias, {alias, room_id_, creator}).status();
    if (absl::IsAlreadyExists(s)) {
      return MatrixError(absl::StatusCode::kAlreadyExists, "M_ROOM_IN_USE",
                         absl::StrCat("The alias ", alias, " is already taken"));
    }
    return s;
  }

  absl::Status SetPublished(bool published) override {
    return conn_.Query(kSetPublished, {room_id_, published}).status();
  }

  absl::Status PutLocalPeek(const LocalPeek& peek) override {
    conn_.Defer(kPutLocalPeek, {room_id_, peek.user_id, peek.device_id, peek.expiry_ts});
    return absl::OkStatus();
  }

  absl::StatusOr<bool> RemoveLocalPeek(absl::string_view user_id,
                                       absl::string_view device_id) override {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                               conn_.Query(kRemoveLocalPeek, {room_id_, user_id, device_id}));
    return r.affected() > 0;
  }

  absl::StatusOr<std::vector<LocalPeek>> LocalPeeks() override {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, conn_.Query(kLocalPeeks, {room_id_}));
    return PeeksFromRows(r);
  }

 private:
  pg::Connection& conn_;
  std::string room_id_;
  int room_version_;
  RoomRow row_;
  PgStateGroupStore state_groups_;
  bool queued_output_ = false;
};

}  // namespace

const std::vector<pg::Migration>& RoomserverMigrations() {
  static const std::vector<pg::Migration> kMigrations = {
      {1, "rooms, events, current state, extremities, transactions, aliases, outbox", kSchemaV1},
      {2, "local peeks", kSchemaV2},
      {3, "per-room output sequence", kSchemaV3},
      {4, "state before and after every event (state groups), DAG edges, outliers, rejections",
       kSchemaV4},
      {5, "forward extremities in the room's row", kSchemaV5},
      {6, "when each outbox message was queued", kSchemaV6},
  };
  return kMigrations;
}

void PgRoomStore::SetOutputListener(std::function<void()> listener) {
  output_listener_ = std::move(listener);
}

absl::Status PgRoomStore::AfterCommit(absl::Status status, bool queued_output) {
  // Also after a failed COMMIT: it may have committed all the same, and a relay run that finds
  // nothing costs one query.
  if (queued_output && output_listener_) output_listener_();
  return status;
}

absl::Status PgRoomStore::CreateRoom(absl::string_view room_id, int room_version, int64_t now_ms,
                                     const WriteBody& body) {
  bool queued = false;
  absl::Status status = pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_RETURN_IF_ERROR(c.Query(kInsertRoom, {room_id, room_version, now_ms}).status());
    // A new row: no output, no state, no extremities yet.
    PgRoomWriteTxn txn(c, room_id, RoomRow{room_version, 0, 0, std::vector<matrix::PrevEvent>()});
    absl::Status s = body(txn);
    queued = txn.queued_output();
    return s;
  });
  return AfterCommit(std::move(status), queued);
}

absl::Status PgRoomStore::Write(absl::string_view room_id, const WriteBody& body) {
  return write_queue_.Submit(
      room_id, body, [this](absl::string_view room, absl::Span<WriteQueue::Write* const> batch) {
        WriteBatch(room, batch);
      });
}

void PgRoomStore::WriteBatch(absl::string_view room_id,
                             absl::Span<WriteQueue::Write* const> batch) {
  bool queued = false;
  absl::Status status = pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, c.Query(kLockRoom, {room_id}));
    if (r.rows() == 0) return RoomNotFound(room_id);
    PERISCOPE_ASSIGN_OR_RETURN(RoomRow row, RoomRowOf(r));
    if (batch.size() == 1) {
      // Alone, a write needs no savepoint: its failure rolls the transaction back, and what it
      // deferred goes with the COMMIT.
      PgRoomWriteTxn txn(c, room_id, std::move(row));
      batch[0]->result = (*batch[0]->body)(txn);
      queued = txn.queued_output();
      return batch[0]->result;
    }
    for (WriteQueue::Write* w : batch) {
      c.DeferExecute("SAVEPOINT room_write");
      // A transaction object per write: nothing a refused write read or cached outlives it.
      PgRoomWriteTxn txn(c, room_id, row);
      w->result = (*w->body)(txn);
      // What the write deferred is sent now, so that its failure is its own.
      absl::Status sent = c.Flush();
      if (w->result.ok()) w->result = sent;
      if (w->result.ok()) {
        c.DeferExecute("RELEASE SAVEPOINT room_write");
        queued = queued || txn.queued_output();
        row = txn.row();
      } else {
        if (!c.Healthy()) return w->result;
        c.DeferExecute("ROLLBACK TO SAVEPOINT room_write");
        c.DeferExecute("RELEASE SAVEPOINT room_write");
      }
    }
    return absl::OkStatus();
  });
  status = AfterCommit(std::move(status), queued);
  // The transaction failed (the room is missing, the connection broke, the commit failed): no
  // write of the batch took effect, whatever its body said. A refusal too gets this answer: it
  // may have been decided against an earlier write of the batch that is now undone (a repeated
  // transaction id, a ban), and a retry decides it again.
  if (!status.ok()) {
    for (WriteQueue::Write* w : batch) w->result = status;
  }
}

absl::StatusOr<std::optional<std::string>> PgRoomStore::TransactionEventId(
    absl::string_view user_id, absl::string_view device_id, absl::string_view txn_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                             pool_.Query(kTransactionEvent, {user_id, device_id, txn_id}));
  if (r.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r.Text(0, 0)));
}

absl::StatusOr<std::vector<OutboxEntry>> PgRoomStore::PendingOutput(
    const std::vector<std::string>& skip, int limit) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                             pool_.Query(kPendingOutput, {pg::ArrayLiteral(skip), limit}));
  std::vector<OutboxEntry> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.Int(i, 0), std::string(r.Text(i, 1)), std::string(r.Text(i, 2)),
                   std::string(r.Text(i, 3))});
  }
  return out;
}

absl::StatusOr<OutboxDepth> PgRoomStore::Depth() {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kOutboxDepth));
  double oldest = 0;
  if (!absl::SimpleAtod(r.Text(0, 1), &oldest)) oldest = 0;
  return OutboxDepth{r.Int(0, 0), oldest};
}

absl::Status PgRoomStore::MarkOutputPublished(const std::vector<int64_t>& positions) {
  if (positions.empty()) return absl::OkStatus();
  // Not waited for on disk: a delete lost in a crash only publishes those messages again, which
  // JetStream's duplicate window and the consumers' room sequences drop. Every send's commit is
  // then the only flush it costs.
  // One round trip: BEGIN, both statements and COMMIT go together.
  return pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    c.DeferExecute("SET LOCAL synchronous_commit TO OFF");
    c.Defer(kDeleteOutput, {pg::ArrayLiteral(positions)});
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<int>> PgRoomStore::RoomVersion(absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kRoomVersion, {room_id}));
  if (r.rows() == 0) return std::optional<int>();
  return std::optional<int>(static_cast<int>(r.Int(0, 0)));
}

absl::StatusOr<int64_t> PgRoomStore::OutputSequence(absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kOutputSeq, {room_id}));
  return r.rows() == 0 ? 0 : r.Int(0, 0);
}

absl::StatusOr<matrix::StateMap> PgRoomStore::StateAtEvent(absl::string_view room_id,
                                                           absl::string_view event_id, bool after) {
  matrix::StateMap state;
  // One connection, so that the group read sees the same snapshot as the event's row.
  PERISCOPE_RETURN_IF_ERROR(pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, c.Query(kEventPlace, {event_id, room_id}));
    if (r.rows() == 0) {
      return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                         absl::StrCat("Unknown event ", event_id, " in room ", room_id));
    }
    if (r.Bool(0, 2)) {
      return MatrixError(
          absl::StatusCode::kFailedPrecondition, matrix::errcode::kNotFound,
          absl::StrCat("No state is known at event ", event_id, ": it was received as an outlier"));
    }
    PgStateGroupStore groups(c, std::string(room_id));
    PERISCOPE_ASSIGN_OR_RETURN(state, groups.LoadState(after ? r.Int(0, 1) : r.Int(0, 0)));
    return absl::OkStatus();
  }));
  return state;
}

absl::StatusOr<matrix::StateMap> PgRoomStore::StateOfGroup(absl::string_view room_id,
                                                           int64_t group) {
  matrix::StateMap state;
  PERISCOPE_RETURN_IF_ERROR(pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PgStateGroupStore groups(c, std::string(room_id));
    absl::StatusOr<matrix::StateMap> loaded = groups.LoadState(group);
    if (absl::IsNotFound(loaded.status())) {
      return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                         loaded.status().message());
    }
    PERISCOPE_ASSIGN_OR_RETURN(state, std::move(loaded));
    return absl::OkStatus();
  }));
  return state;
}

absl::StatusOr<std::vector<EventRecord>> PgRoomStore::CurrentState(
    absl::string_view room_id, const std::vector<matrix::StateKey>& keys) {
  std::vector<EventRecord> out;
  if (keys.empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kAllState, {room_id}));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({std::string(r.Text(i, 0)), std::string(room_id), std::string(r.Text(i, 1))});
    }
    return out;
  }
  for (const matrix::StateKey& key : keys) {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                               pool_.Query(kStateEvent, {room_id, key.first, key.second}));
    if (r.rows() > 0) {
      out.push_back({std::string(r.Text(0, 0)), std::string(room_id), std::string(r.Text(0, 1))});
    }
  }
  return out;
}

absl::StatusOr<std::vector<EventRecord>> PgRoomStore::EventsById(
    const std::vector<std::string>& event_ids) {
  std::vector<EventRecord> out;
  for (const std::string& id : event_ids) {
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kEventById, {id}));
    if (r.rows() > 0) {
      out.push_back({std::string(r.Text(0, 0)), std::string(r.Text(0, 1)),
                     std::string(r.Text(0, 2)), r.Bool(0, 3)});
    }
  }
  return out;
}

absl::StatusOr<MembershipRecord> PgRoomStore::Membership(absl::string_view room_id,
                                                         absl::string_view user_id) {
  MembershipRecord record;
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, RoomVersion(room_id));
  record.room_exists = version.has_value();
  if (!record.room_exists) return record;
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kMembership, {room_id, user_id}));
  if (r.rows() > 0) {
    record.membership = std::string(r.Text(0, 0));
    record.event_id = std::string(r.Text(0, 1));
  }
  return record;
}

absl::StatusOr<std::vector<std::string>> PgRoomStore::JoinedRooms(absl::string_view user_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kJoinedRooms, {user_id}));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0));
  return out;
}

absl::StatusOr<bool> PgRoomStore::HasJoinedMemberOf(absl::string_view room_id,
                                                    absl::string_view server_name) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kHasJoinedMemberOf, {room_id, server_name}));
  return r.rows() > 0;
}

absl::StatusOr<bool> PgRoomStore::ReplaceVersionOfStatelessRoom(absl::string_view room_id,
                                                                int version) {
  PERISCOPE_ASSIGN_OR_RETURN(
      pg::Result r, pool_.Query(kReplaceStatelessVersion, {room_id, absl::StrCat(version)}));
  return r.rows() > 0;
}

absl::StatusOr<std::vector<EventRecord>> PgRoomStore::InvitesOf(absl::string_view room_id,
                                                                absl::string_view user_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kInvitesOf, {room_id, user_id}));
  std::vector<EventRecord> invites;
  for (int i = 0; i < r.rows(); ++i) {
    invites.push_back({std::string(r.Text(i, 0)), std::string(room_id), std::string(r.Text(i, 1))});
  }
  return invites;
}

absl::StatusOr<std::optional<std::string>> PgRoomStore::ResolveAlias(absl::string_view alias) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kResolveAlias, {alias}));
  if (r.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r.Text(0, 0)));
}

absl::StatusOr<std::optional<AliasRecord>> PgRoomStore::Alias(absl::string_view alias) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kAlias, {alias}));
  if (r.rows() == 0) return std::optional<AliasRecord>();
  return std::optional<AliasRecord>(
      AliasRecord{std::string(r.Text(0, 0)), std::string(r.Text(0, 1))});
}

absl::Status PgRoomStore::SetAlias(absl::string_view alias, absl::string_view room_id,
                                   absl::string_view creator) {
  return pool_.Query(kInsertAlias, {alias, room_id, creator}).status();
}

absl::Status PgRoomStore::RemoveAlias(absl::string_view alias) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kRemoveAlias, {alias}));
  if (r.affected() == 0) {
    return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                       absl::StrCat("Room alias ", alias, " not found"));
  }
  return absl::OkStatus();
}

absl::Status PgRoomStore::SetPublished(absl::string_view room_id, bool published) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kSetPublished, {room_id, published}));
  if (r.affected() == 0) return RoomNotFound(room_id);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<bool>> PgRoomStore::Published(absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kPublished, {room_id}));
  if (r.rows() == 0) return std::optional<bool>();
  return std::optional<bool>(r.Bool(0, 0));
}

absl::StatusOr<std::vector<std::string>> PgRoomStore::PublishedRooms() {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kPublishedRooms));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0));
  return out;
}

absl::StatusOr<std::vector<LocalPeek>> PgRoomStore::LocalPeeks(absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kLocalPeeks, {room_id}));
  return PeeksFromRows(r);
}

}  // namespace periscope::roomserver
