#include "internal/syncapi/storage/pg_sync_store.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/pg/array.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {
namespace {

constexpr absl::string_view kSchemaV1 = R"sql(
CREATE TABLE syncapi_events (
  pos BIGSERIAL PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  room_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  state_key TEXT,
  sender TEXT NOT NULL,
  event_json TEXT NOT NULL,
  device_id TEXT NOT NULL DEFAULT '',
  txn_id TEXT NOT NULL DEFAULT '',
  membership TEXT NOT NULL DEFAULT ''
);
CREATE INDEX syncapi_events_by_room ON syncapi_events (room_id, pos);
CREATE TABLE syncapi_current_state (
  room_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  membership TEXT NOT NULL DEFAULT '',
  pos BIGINT NOT NULL,
  PRIMARY KEY (room_id, event_type, state_key)
);
CREATE INDEX syncapi_current_memberships ON syncapi_current_state (state_key, membership)
  WHERE event_type = 'm.room.member';
)sql";

constexpr absl::string_view kSchemaV2 = R"sql(
CREATE TABLE syncapi_account_data (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL DEFAULT '',
  data_type TEXT NOT NULL,
  content_json TEXT NOT NULL,
  pos BIGINT NOT NULL DEFAULT nextval('syncapi_events_pos_seq'),
  PRIMARY KEY (user_id, room_id, data_type)
);
CREATE INDEX syncapi_account_data_by_pos ON syncapi_account_data (user_id, pos);
)sql";

constexpr absl::string_view kSchemaV3 = R"sql(
-- Local devices' peeks (MSC2753): one row per device and room, the latest peek. pos is where it
-- started, ended_pos where it ended (NULL while live); both come from the event sequence.
CREATE TABLE syncapi_peeks (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  pos BIGINT NOT NULL,
  expiry_ts BIGINT NOT NULL,
  ended_pos BIGINT,
  ended_reason TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (user_id, device_id, room_id)
);
CREATE INDEX syncapi_live_peeks_by_room ON syncapi_peeks (room_id) WHERE ended_pos IS NULL;
CREATE INDEX syncapi_live_peeks_by_expiry ON syncapi_peeks (expiry_ts) WHERE ended_pos IS NULL;
)sql";

constexpr absl::string_view kSchemaV4 = R"sql(
-- The last roomserver output-stream sequence applied per room: a message at or below it is a
-- redelivery (its ack was lost) and changes nothing, even when it comes behind newer ones.
CREATE TABLE syncapi_room_stream (
  room_id TEXT PRIMARY KEY,
  last_seq BIGINT NOT NULL
);
)sql";

// Advances the room's last applied sequence; no row comes back if `seq` is not above it.
constexpr pg::Statement kClaimRoomSeq{
    "syncapi_claim_room_seq",
    "INSERT INTO syncapi_room_stream (room_id, last_seq) VALUES ($1, $2) ON CONFLICT (room_id) "
    "DO UPDATE SET last_seq = EXCLUDED.last_seq WHERE syncapi_room_stream.last_seq < "
    "EXCLUDED.last_seq RETURNING last_seq"};

// False if the message with this room sequence was applied already (0: unsequenced, always new).
absl::StatusOr<bool> ClaimRoomSequence(pg::Connection& c, absl::string_view room_id,
                                       int64_t room_seq) {
  if (room_seq <= 0) return true;
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, c.Query(kClaimRoomSeq, {room_id, room_seq}));
  return r.rows() > 0;
}

constexpr absl::string_view kSchemaV5 = R"sql(
-- History visibility reads the history of one piece of state (a room's visibility, a user's
-- membership) for every client read.
CREATE INDEX syncapi_events_state_history ON syncapi_events (room_id, event_type, state_key, pos)
  WHERE state_key IS NOT NULL;
)sql";

constexpr absl::string_view kSchemaV6 = R"sql(
-- Each change of a room's current state, at the position of the message that made it: the key's
-- new event, or NULL where the key left the state. In a linear room that is each state event at
-- its own position; where the roomserver merged branches, one message can change several keys,
-- including bringing back an older event. "State at a position" reads this, not the events.
CREATE TABLE syncapi_state_changes (
  room_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  pos BIGINT NOT NULL,
  event_id TEXT,
  PRIMARY KEY (room_id, event_type, state_key, pos)
);
INSERT INTO syncapi_state_changes (room_id, event_type, state_key, pos, event_id)
  SELECT room_id, event_type, state_key, pos, event_id FROM syncapi_events
  WHERE state_key IS NOT NULL;
DROP INDEX syncapi_events_state_history;
-- Set on a message that changed state through events other than its own (a merge): an
-- incremental /sync restarts its timeline after it (sync/sync_builder.cc).
ALTER TABLE syncapi_events ADD COLUMN merges_state BOOLEAN NOT NULL DEFAULT FALSE;
)sql";

constexpr absl::string_view kSchemaV7 = R"sql(
-- Events that entered a room's state without ever being on the output stream (the state of a
-- room joined over federation): kept for state reads, left out of every timeline.
ALTER TABLE syncapi_events ADD COLUMN state_only BOOLEAN NOT NULL DEFAULT FALSE;
)sql";

constexpr pg::Statement kInsertStateOnlyEvent{
    "syncapi_insert_state_only_event",
    "INSERT INTO syncapi_events (event_id, room_id, event_type, state_key, sender, event_json, "
    "membership, state_only) VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE) ON CONFLICT (event_id) DO "
    "NOTHING"};

constexpr pg::Statement kStateHistory{
    "syncapi_state_history",
    "SELECT c.pos, COALESCE(e.event_id, ''), c.room_id, c.event_type, c.state_key, "
    "COALESCE(e.sender, ''), COALESCE(e.event_json, ''), '', '', COALESCE(e.membership, ''), "
    "COALESCE(e.merges_state, FALSE) "
    "FROM syncapi_state_changes c LEFT JOIN syncapi_events e ON e.event_id = c.event_id "
    "WHERE c.room_id = $1 AND c.event_type = $2 AND c.state_key = $3 ORDER BY c.pos"};
constexpr pg::Statement kStateAt{
    "syncapi_state_at",
    "SELECT e.pos, e.event_id, e.room_id, e.event_type, e.state_key, e.sender, e.event_json, "
    "e.device_id, e.txn_id, e.membership, e.merges_state FROM (SELECT DISTINCT ON (c.event_type, "
    "c.state_key) "
    "c.event_id FROM syncapi_state_changes c WHERE c.room_id = $1 AND c.pos <= $2 ORDER BY "
    "c.event_type, c.state_key, c.pos DESC) s JOIN syncapi_events e ON e.event_id = s.event_id"};
constexpr pg::Statement kRecordStateChanges{
    "syncapi_record_state_changes",
    "INSERT INTO syncapi_state_changes (room_id, event_type, state_key, pos, event_id) SELECT $1, "
    "d.event_type, d.state_key, $2, NULLIF(d.event_id, '') FROM unnest($3::text[], $4::text[], "
    "$5::text[]) AS d(event_type, state_key, event_id)"};
constexpr pg::Statement kDeleteState{
    "syncapi_delete_state",
    "DELETE FROM syncapi_current_state WHERE room_id = $1 AND event_type = $2 AND "
    "state_key = $3"};

constexpr pg::Statement kAppliedRoomSeq{
    "syncapi_applied_room_seq", "SELECT last_seq FROM syncapi_room_stream WHERE room_id = $1"};

constexpr pg::Statement kAccountDataEntryCount{
    "syncapi_account_data_entry_count",
    "SELECT count(*), count(*) FILTER (WHERE room_id = $2 AND data_type = $3) FROM "
    "syncapi_account_data WHERE user_id = $1"};

// A new entry past the user's limit is refused (an existing one may always be replaced). Runs
// under the position lock, which every account data write holds, so the count is exact.
absl::Status CheckAccountDataLimit(pg::Connection& c, absl::string_view user_id,
                                   absl::string_view room_id, absl::string_view type) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                             c.Query(kAccountDataEntryCount, {user_id, room_id, type}));
  if (r.Int(0, 1) > 0 || r.Int(0, 0) < kMaxAccountDataEntriesPerUser) return absl::OkStatus();
  return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kTooLarge,
                     absl::StrCat("A user may keep at most ", kMaxAccountDataEntriesPerUser,
                                  " account data entries (global and per room)"));
}

constexpr pg::Statement kPeekForUpdate{
    "syncapi_peek_for_update",
    "SELECT ended_pos IS NULL FROM syncapi_peeks WHERE user_id = $1 AND device_id = $2 AND "
    "room_id = $3 FOR UPDATE"};
constexpr pg::Statement kStartPeek{
    "syncapi_start_peek",
    "INSERT INTO syncapi_peeks (user_id, device_id, room_id, pos, expiry_ts) VALUES ($1, $2, $3, "
    "nextval('syncapi_events_pos_seq'), $4) ON CONFLICT (user_id, device_id, room_id) DO UPDATE "
    "SET pos = EXCLUDED.pos, expiry_ts = EXCLUDED.expiry_ts, ended_pos = NULL, ended_reason = '' "
    "RETURNING pos"};
constexpr pg::Statement kRenewPeek{
    "syncapi_renew_peek",
    "UPDATE syncapi_peeks SET expiry_ts = GREATEST(expiry_ts, $4) WHERE user_id = $1 AND "
    "device_id = $2 AND room_id = $3"};
constexpr pg::Statement kEndPeek{
    "syncapi_end_peek",
    "UPDATE syncapi_peeks SET ended_pos = nextval('syncapi_events_pos_seq'), ended_reason = $4 "
    "WHERE user_id = $1 AND device_id = $2 AND room_id = $3 AND ended_pos IS NULL "
    "RETURNING ended_pos"};
constexpr pg::Statement kPeeksOf{
    "syncapi_peeks_of",
    "SELECT room_id, pos, expiry_ts, ended_pos, ended_reason FROM syncapi_peeks WHERE "
    "user_id = $1 AND device_id = $2"};
constexpr pg::Statement kPeekingUsers{
    "syncapi_peeking_users",
    "SELECT DISTINCT user_id FROM syncapi_peeks WHERE room_id = $1 AND ended_pos IS NULL"};
constexpr pg::Statement kRenewPeeks{
    "syncapi_renew_peeks",
    "UPDATE syncapi_peeks SET expiry_ts = $3 WHERE user_id = $1 AND device_id = $2 AND "
    "ended_pos IS NULL AND expiry_ts < $3"};
constexpr pg::Statement kLivePeekCount{
    "syncapi_live_peek_count", "SELECT count(*) FROM syncapi_peeks WHERE ended_pos IS NULL"};
constexpr pg::Statement kLapsedPeeks{
    "syncapi_lapsed_peeks",
    "SELECT room_id, user_id, device_id FROM syncapi_peeks WHERE ended_pos IS NULL AND "
    "expiry_ts < $1 ORDER BY expiry_ts LIMIT 1000"};

// Positions come from one sequence but become visible at COMMIT. With two writers (the output
// consumer and account data puts) a later position could commit first, and a sync that had read
// it as the newest would never see the earlier one. Every position-allocating transaction takes
// this lock first, so commit order is position order.
constexpr pg::Statement kLockPositions{"syncapi_lock_positions",
                                       "SELECT pg_advisory_xact_lock(7355608)"};
constexpr pg::Statement kPutAccountData{
    "syncapi_put_account_data",
    "INSERT INTO syncapi_account_data (user_id, room_id, data_type, content_json) VALUES "
    "($1, $2, $3, $4) ON CONFLICT (user_id, room_id, data_type) DO UPDATE SET content_json = "
    "EXCLUDED.content_json, pos = EXCLUDED.pos RETURNING pos"};
constexpr pg::Statement kAccountData{
    "syncapi_account_data",
    "SELECT content_json FROM syncapi_account_data WHERE user_id = $1 AND room_id = $2 AND "
    "data_type = $3"};
constexpr pg::Statement kAccountDataForUpdate{
    "syncapi_account_data_for_update",
    "SELECT content_json FROM syncapi_account_data WHERE user_id = $1 AND room_id = $2 AND "
    "data_type = $3 FOR UPDATE"};
constexpr pg::Statement kAccountDataChanges{
    "syncapi_account_data_changes",
    "SELECT room_id, data_type, content_json, pos FROM syncapi_account_data WHERE user_id = $1 "
    "AND pos > $2 AND pos <= $3 ORDER BY pos"};
// A new event; one kept until now only as state (a joined room's state, state_only) that comes
// on the stream after all (the roomserver placed an outlier it had) joins the timeline at a new
// position, with the JSON syncapi holds (redacted, if a redaction reached it meanwhile). Anything
// else already stored was applied before: no row comes back.
constexpr pg::Statement kInsertEvent{
    "syncapi_insert_event",
    "INSERT INTO syncapi_events (event_id, room_id, event_type, state_key, sender, event_json, "
    "device_id, txn_id, membership, merges_state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10) ON CONFLICT (event_id) DO UPDATE SET pos = nextval('syncapi_events_pos_seq'), "
    "state_only = FALSE, membership = EXCLUDED.membership, merges_state = EXCLUDED.merges_state "
    "WHERE syncapi_events.state_only RETURNING pos"};
constexpr pg::Statement kUpsertState{
    "syncapi_upsert_state",
    "INSERT INTO syncapi_current_state (room_id, event_type, state_key, event_id, membership, pos) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (room_id, event_type, state_key) DO UPDATE SET "
    "event_id = EXCLUDED.event_id, membership = EXCLUDED.membership, pos = EXCLUDED.pos"};
constexpr pg::Statement kStoreRedacted{
    "syncapi_store_redacted",
    "UPDATE syncapi_events SET event_json = $3 WHERE room_id = $1 AND event_id = $2"};
constexpr pg::Statement kEventInRoom{
    "syncapi_event_in_room",
    "SELECT e.pos, e.event_id, e.room_id, e.event_type, e.state_key, e.sender, e.event_json, "
    "e.device_id, e.txn_id, e.membership, e.merges_state FROM syncapi_events e WHERE e.room_id = "
    "$1 AND "
    "e.event_id = $2"};
constexpr pg::Statement kMaxPosition{
    "syncapi_max_position",
    "SELECT GREATEST((SELECT COALESCE(MAX(pos), 0) FROM syncapi_events), "
    "(SELECT COALESCE(MAX(pos), 0) FROM syncapi_account_data), "
    "(SELECT COALESCE(MAX(GREATEST(pos, ended_pos)), 0) FROM syncapi_peeks))"};
constexpr pg::Statement kMembershipsOf{
    "syncapi_memberships_of",
    "SELECT room_id, membership, pos FROM syncapi_current_state WHERE event_type = "
    "'m.room.member' AND state_key = $1"};
constexpr pg::Statement kJoinedUsers{
    "syncapi_joined_users",
    "SELECT state_key FROM syncapi_current_state WHERE room_id = $1 AND event_type = "
    "'m.room.member' AND membership = 'join'"};
constexpr pg::Statement kCurrentState{
    "syncapi_current_state",
    "SELECT s.pos, e.event_id, e.room_id, e.event_type, e.state_key, e.sender, e.event_json, "
    "e.device_id, e.txn_id, e.membership, e.merges_state FROM syncapi_current_state s JOIN "
    "syncapi_events e USING (event_id) WHERE s.room_id = $1 ORDER BY s.pos"};
constexpr pg::Statement kRecentEvents{
    "syncapi_recent_events",
    "SELECT e.pos, e.event_id, e.room_id, e.event_type, e.state_key, e.sender, e.event_json, "
    "e.device_id, e.txn_id, e.membership, e.merges_state FROM syncapi_events e WHERE e.room_id = "
    "$1 AND NOT e.state_only AND "
    "e.pos > $2 AND e.pos <= $3 ORDER BY e.pos DESC LIMIT $4"};
constexpr pg::Statement kPageBackwards{
    "syncapi_page_backwards",
    "SELECT e.pos, e.event_id, e.room_id, e.event_type, e.state_key, e.sender, e.event_json, "
    "e.device_id, e.txn_id, e.membership, e.merges_state FROM syncapi_events e WHERE e.room_id = "
    "$1 AND NOT e.state_only AND "
    "e.pos <= $2 AND e.pos > $3 ORDER BY e.pos DESC LIMIT $4"};
constexpr pg::Statement kPageForwards{
    "syncapi_page_forwards",
    "SELECT e.pos, e.event_id, e.room_id, e.event_type, e.state_key, e.sender, e.event_json, "
    "e.device_id, e.txn_id, e.membership, e.merges_state FROM syncapi_events e WHERE e.room_id = "
    "$1 AND NOT e.state_only AND "
    "e.pos > $2 AND e.pos <= $3 ORDER BY e.pos ASC LIMIT $4"};
constexpr pg::Statement kMembershipIn{
    "syncapi_membership_in",
    "SELECT room_id, membership, pos FROM syncapi_current_state WHERE room_id = $1 AND "
    "event_type = 'm.room.member' AND state_key = $2"};
constexpr pg::Statement kActiveRooms{
    "syncapi_active_rooms",
    "SELECT DISTINCT e.room_id FROM syncapi_events e JOIN syncapi_current_state m ON "
    "m.room_id = e.room_id AND m.event_type = 'm.room.member' AND m.state_key = $1 "
    "WHERE e.pos > $2 AND e.pos <= $3 AND NOT e.state_only"};

SyncEvent EventFromRow(const pg::Result& r, int row) {
  SyncEvent e;
  e.pos = r.Int(row, 0);
  e.event_id = std::string(r.Text(row, 1));
  e.room_id = std::string(r.Text(row, 2));
  e.type = std::string(r.Text(row, 3));
  if (!r.IsNull(row, 4)) e.state_key = std::string(r.Text(row, 4));
  e.sender = std::string(r.Text(row, 5));
  e.event_json = std::string(r.Text(row, 6));
  e.device_id = std::string(r.Text(row, 7));
  e.txn_id = std::string(r.Text(row, 8));
  e.membership = std::string(r.Text(row, 9));
  e.merges_state = r.Bool(row, 10);
  return e;
}

}  // namespace

const std::vector<pg::Migration>& SyncApiMigrations() {
  static const std::vector<pg::Migration> kMigrations = {
      {1, "events and current state", kSchemaV1},
      {2, "account data", kSchemaV2},
      {3, "peeks", kSchemaV3},
      {4, "per-room stream sequence", kSchemaV4},
      {5, "state history index", kSchemaV5},
      {6, "state change log (merged branches change several keys)", kSchemaV6},
      {7, "state-only events (a federated join's state)", kSchemaV7},
  };
  return kMigrations;
}

absl::StatusOr<std::optional<int64_t>> PgSyncStore::ApplyEvent(
    const SyncEvent& e, const std::vector<StateUpdate>& state, int64_t room_seq) {
  std::optional<int64_t> pos;
  PERISCOPE_RETURN_IF_ERROR(pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_RETURN_IF_ERROR(c.Query(kLockPositions).status());
    PERISCOPE_ASSIGN_OR_RETURN(bool fresh, ClaimRoomSequence(c, e.room_id, room_seq));
    if (!fresh) return absl::OkStatus();
    for (const StateUpdate& update : state) {
      if (update.state_only_json.empty() || !update.event_id) continue;
      PERISCOPE_RETURN_IF_ERROR(
          c.Query(kInsertStateOnlyEvent,
                  {*update.event_id, e.room_id, update.type, update.state_key,
                   update.state_only_sender, update.state_only_json, update.membership})
              .status());
    }
    PERISCOPE_ASSIGN_OR_RETURN(
        pg::Result r,
        c.Query(kInsertEvent, {e.event_id, e.room_id, e.type, e.state_key, e.sender, e.event_json,
                               e.device_id, e.txn_id, e.membership, e.merges_state}));
    if (r.rows() == 0) return absl::OkStatus();  // already applied
    pos = r.Int(0, 0);
    if (state.empty()) return absl::OkStatus();
    std::vector<std::string> types, keys, ids;
    for (const StateUpdate& update : state) {
      if (update.event_id) {
        PERISCOPE_RETURN_IF_ERROR(c.Query(kUpsertState, {e.room_id, update.type, update.state_key,
                                                         *update.event_id, update.membership, *pos})
                                      .status());
      } else {
        PERISCOPE_RETURN_IF_ERROR(
            c.Query(kDeleteState, {e.room_id, update.type, update.state_key}).status());
      }
      types.push_back(update.type);
      keys.push_back(update.state_key);
      ids.push_back(update.event_id.value_or(""));
    }
    return c
        .Query(kRecordStateChanges, {e.room_id, *pos, pg::ArrayLiteral(types),
                                     pg::ArrayLiteral(keys), pg::ArrayLiteral(ids)})
        .status();
  }));
  return pos;
}

absl::StatusOr<std::vector<SyncEvent>> PgSyncStore::StateAt(absl::string_view room_id,
                                                            int64_t pos) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kStateAt, {room_id, pos}));
  std::vector<SyncEvent> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(EventFromRow(r, i));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pos < b.pos; });
  return out;
}

absl::StatusOr<std::vector<SyncEvent>> PgSyncStore::StateHistory(absl::string_view room_id,
                                                                 absl::string_view type,
                                                                 absl::string_view state_key) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kStateHistory, {room_id, type, state_key}));
  std::vector<SyncEvent> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(EventFromRow(r, i));
  return out;
}

absl::StatusOr<int64_t> PgSyncStore::AppliedRoomSequence(absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kAppliedRoomSeq, {room_id}));
  return r.rows() == 0 ? 0 : r.Int(0, 0);
}

absl::StatusOr<bool> PgSyncStore::AdvanceRoomSequence(absl::string_view room_id, int64_t room_seq) {
  bool fresh = false;
  PERISCOPE_RETURN_IF_ERROR(pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_ASSIGN_OR_RETURN(fresh, ClaimRoomSequence(c, room_id, room_seq));
    return absl::OkStatus();
  }));
  return fresh;
}

absl::StatusOr<bool> PgSyncStore::StoreRedacted(absl::string_view room_id,
                                                absl::string_view event_id,
                                                absl::string_view redacted_json) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                             pool_.Query(kStoreRedacted, {room_id, event_id, redacted_json}));
  return r.affected() > 0;
}

absl::StatusOr<std::optional<SyncEvent>> PgSyncStore::EventInRoom(absl::string_view room_id,
                                                                  absl::string_view event_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kEventInRoom, {room_id, event_id}));
  if (r.rows() == 0) return std::optional<SyncEvent>();
  return std::optional<SyncEvent>(EventFromRow(r, 0));
}

absl::StatusOr<int64_t> PgSyncStore::MaxPosition() {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kMaxPosition));
  return r.Int(0, 0);
}

absl::StatusOr<std::vector<RoomMembership>> PgSyncStore::MembershipsOf(absl::string_view user_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kMembershipsOf, {user_id}));
  std::vector<RoomMembership> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.Text(i, 0)), std::string(r.Text(i, 1)), r.Int(i, 2)});
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> PgSyncStore::JoinedUsers(absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kJoinedUsers, {room_id}));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0));
  return out;
}

absl::StatusOr<std::vector<SyncEvent>> PgSyncStore::CurrentState(absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kCurrentState, {room_id}));
  std::vector<SyncEvent> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(EventFromRow(r, i));
  return out;
}

absl::StatusOr<std::vector<SyncEvent>> PgSyncStore::RecentEvents(absl::string_view room_id,
                                                                 int64_t from, int64_t to,
                                                                 int limit, bool* limited) {
  // One more than asked for tells whether the range held more.
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                             pool_.Query(kRecentEvents, {room_id, from, to, limit + 1}));
  std::vector<SyncEvent> out;
  for (int i = 0; i < r.rows() && i < limit; ++i) out.push_back(EventFromRow(r, i));
  *limited = r.rows() > limit;
  std::reverse(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<SyncEvent>> PgSyncStore::EventsPage(absl::string_view room_id,
                                                               int64_t from, int64_t to,
                                                               bool backwards, int limit) {
  // Backwards stops above `to` (exclusive); forwards stops at `to` (inclusive).
  const int64_t bound = backwards ? to : (to > 0 ? to : std::numeric_limits<int64_t>::max());
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(backwards ? kPageBackwards : kPageForwards,
                                                       {room_id, from, bound, limit}));
  std::vector<SyncEvent> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(EventFromRow(r, i));
  return out;
}

absl::StatusOr<RoomMembership> PgSyncStore::MembershipIn(absl::string_view room_id,
                                                         absl::string_view user_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kMembershipIn, {room_id, user_id}));
  if (r.rows() == 0) return RoomMembership{std::string(room_id), "", 0};
  return RoomMembership{std::string(r.Text(0, 0)), std::string(r.Text(0, 1)), r.Int(0, 2)};
}

absl::StatusOr<std::vector<std::string>> PgSyncStore::ActiveRoomsOf(absl::string_view user_id,
                                                                    int64_t from, int64_t to) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kActiveRooms, {user_id, from, to}));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0));
  return out;
}

absl::StatusOr<int64_t> PgSyncStore::PutAccountData(absl::string_view user_id,
                                                    absl::string_view room_id,
                                                    absl::string_view type,
                                                    absl::string_view content_json) {
  int64_t pos = 0;
  PERISCOPE_RETURN_IF_ERROR(pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_RETURN_IF_ERROR(c.Query(kLockPositions).status());
    PERISCOPE_RETURN_IF_ERROR(CheckAccountDataLimit(c, user_id, room_id, type));
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                               c.Query(kPutAccountData, {user_id, room_id, type, content_json}));
    pos = r.Int(0, 0);
    return absl::OkStatus();
  }));
  return pos;
}

absl::StatusOr<int64_t> PgSyncStore::ModifyAccountData(absl::string_view user_id,
                                                       absl::string_view room_id,
                                                       absl::string_view type,
                                                       const AccountDataModifier& modify) {
  int64_t pos = 0;
  PERISCOPE_RETURN_IF_ERROR(pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_RETURN_IF_ERROR(c.Query(kLockPositions).status());
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result current,
                               c.Query(kAccountDataForUpdate, {user_id, room_id, type}));
    std::optional<std::string> content;
    if (current.rows() > 0) content = std::string(current.Text(0, 0));
    PERISCOPE_ASSIGN_OR_RETURN(std::string updated, modify(content));
    if (!content) PERISCOPE_RETURN_IF_ERROR(CheckAccountDataLimit(c, user_id, room_id, type));
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                               c.Query(kPutAccountData, {user_id, room_id, type, updated}));
    pos = r.Int(0, 0);
    return absl::OkStatus();
  }));
  return pos;
}

absl::StatusOr<std::optional<std::string>> PgSyncStore::AccountData(absl::string_view user_id,
                                                                    absl::string_view room_id,
                                                                    absl::string_view type) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kAccountData, {user_id, room_id, type}));
  if (r.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r.Text(0, 0)));
}

absl::StatusOr<std::vector<AccountDataEntry>> PgSyncStore::AccountDataChanges(
    absl::string_view user_id, int64_t from, int64_t to) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kAccountDataChanges, {user_id, from, to}));
  std::vector<AccountDataEntry> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.Text(i, 0)), std::string(r.Text(i, 1)), std::string(r.Text(i, 2)),
                   r.Int(i, 3)});
  }
  return out;
}

absl::StatusOr<std::optional<int64_t>> PgSyncStore::StartPeek(absl::string_view room_id,
                                                              absl::string_view user_id,
                                                              absl::string_view device_id,
                                                              int64_t expiry_ts, int64_t room_seq) {
  std::optional<int64_t> pos;
  PERISCOPE_RETURN_IF_ERROR(pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_RETURN_IF_ERROR(c.Query(kLockPositions).status());
    // A new_peek redelivered after its retire_peek must not re-open the peek.
    PERISCOPE_ASSIGN_OR_RETURN(bool fresh, ClaimRoomSequence(c, room_id, room_seq));
    if (!fresh) return absl::OkStatus();
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result current,
                               c.Query(kPeekForUpdate, {user_id, device_id, room_id}));
    if (current.rows() > 0 && current.Bool(0, 0)) {  // live: a renewal
      return c.Query(kRenewPeek, {user_id, device_id, room_id, expiry_ts}).status();
    }
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                               c.Query(kStartPeek, {user_id, device_id, room_id, expiry_ts}));
    pos = r.Int(0, 0);
    return absl::OkStatus();
  }));
  return pos;
}

absl::StatusOr<std::optional<int64_t>> PgSyncStore::EndPeek(absl::string_view room_id,
                                                            absl::string_view user_id,
                                                            absl::string_view device_id,
                                                            absl::string_view reason,
                                                            int64_t room_seq) {
  std::optional<int64_t> pos;
  PERISCOPE_RETURN_IF_ERROR(pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    PERISCOPE_RETURN_IF_ERROR(c.Query(kLockPositions).status());
    PERISCOPE_ASSIGN_OR_RETURN(bool fresh, ClaimRoomSequence(c, room_id, room_seq));
    if (!fresh) return absl::OkStatus();
    PERISCOPE_ASSIGN_OR_RETURN(pg::Result r,
                               c.Query(kEndPeek, {user_id, device_id, room_id, reason}));
    if (r.rows() > 0) pos = r.Int(0, 0);
    return absl::OkStatus();
  }));
  return pos;
}

absl::StatusOr<std::vector<DevicePeek>> PgSyncStore::PeeksOf(absl::string_view user_id,
                                                             absl::string_view device_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kPeeksOf, {user_id, device_id}));
  std::vector<DevicePeek> out;
  for (int i = 0; i < r.rows(); ++i) {
    DevicePeek peek;
    peek.room_id = std::string(r.Text(i, 0));
    peek.pos = r.Int(i, 1);
    peek.expiry_ts = r.Int(i, 2);
    if (!r.IsNull(i, 3)) peek.ended_pos = r.Int(i, 3);
    peek.ended_reason = std::string(r.Text(i, 4));
    out.push_back(std::move(peek));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> PgSyncStore::PeekingUsers(absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kPeekingUsers, {room_id}));
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0));
  return out;
}

absl::Status PgSyncStore::RenewPeeks(absl::string_view user_id, absl::string_view device_id,
                                     int64_t expiry_ts) {
  return pool_.Query(kRenewPeeks, {user_id, device_id, expiry_ts}).status();
}

absl::StatusOr<std::vector<std::array<std::string, 3>>> PgSyncStore::LapsedPeeks(int64_t now_ts) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kLapsedPeeks, {now_ts}));
  std::vector<std::array<std::string, 3>> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(
        {std::string(r.Text(i, 0)), std::string(r.Text(i, 1)), std::string(r.Text(i, 2))});
  }
  return out;
}

absl::StatusOr<int64_t> PgSyncStore::LivePeekCount() {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, pool_.Query(kLivePeekCount));
  return r.Int(0, 0);
}

}  // namespace periscope::syncapi
