// State groups on a real PostgreSQL: a long chain of state events is read back exactly (deltas,
// snapshots every kMaxStateDeltaHops, removed keys), a group naming an unstored event is refused,
// and migration 4 replays a room written before state groups existed into the same groups the
// roomserver would have written.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "internal/roomserver/state/state_calculator.h"
#include "internal/roomserver/state/stored_events.h"
#include "internal/roomserver/storage/pg_room_store.h"
#include "internal/roomserver/storage/pg_state_group_store.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/pg/migrations.h"
#include "tests/testing/test_services.h"

namespace periscope::roomserver {
namespace {

using matrix::StateKey;
using matrix::StateMap;

constexpr char kRoom[] = "!room:sg.test";

class StateGroupsOnPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto pool = pg::Pool::Create({.dsn = db_->dsn(), .max_connections = 2});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
  }

  void Migrate(size_t up_to) {
    std::vector<pg::Migration> migrations = RoomserverMigrations();
    migrations.resize(std::min(up_to, migrations.size()));
    ASSERT_TRUE(pg::ApplyMigrations(*pool_, "roomserver", migrations).ok());
  }

  // A state event's JSON as the pre-v4 roomserver stored it (only what the replay reads).
  static std::string EventJson(int i, const std::string& prev) {
    matrix::Json event = {
        {"type", "m.room.member"},
        {"state_key", absl::StrCat("@u", i % 30, ":sg.test")},
        {"content", {{"membership", "join"}}},
        {"prev_events", prev.empty() ? matrix::Json::array() : matrix::Json::array({prev})}};
    return *matrix::EncodeCanonicalJson(event);
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
};

TEST_F(StateGroupsOnPostgresTest, ALongChainReadsBackExactly) {
  Migrate(100);
  PgRoomStore store(*pool_);
  absl::Status status = store.CreateRoom(kRoom, 10, 1, [&](RoomWriteTxn& txn) -> absl::Status {
    StoredEvents events(txn);
    StateCalculator calculator(txn.StateGroups(), events, kRoom, 10);
    StateMap expected;
    int64_t group = kEmptyStateGroup;
    std::string prev;
    for (int i = 0; i < 230; ++i) {
      AcceptedEvent e;
      e.event_id = absl::StrCat("$e", i);
      e.type = "m.room.member";
      e.state_key = absl::StrCat("@u", i % 30, ":sg.test");
      e.sender = *e.state_key;
      e.depth = i + 1;
      e.event_json = EventJson(i, prev);
      e.place.state_before = group;
      if (!prev.empty()) e.prev_event_ids = {prev};
      if (absl::Status s = txn.AppendEvent(e); !s.ok()) return s;
      absl::StatusOr<int64_t> after = calculator.After(group, {e.type, *e.state_key}, e.event_id);
      if (!after.ok()) return after.status();
      group = *after;
      expected[{e.type, *e.state_key}] = e.event_id;
      absl::StatusOr<StateMap> read = txn.StateGroups().LoadState(group);
      if (!read.ok()) return read.status();
      EXPECT_EQ(*read, expected) << "after " << e.event_id;
      absl::StatusOr<int> hops = txn.StateGroups().Hops(group);
      EXPECT_TRUE(hops.ok() && *hops <= kMaxStateDeltaHops);
      prev = e.event_id;
    }
    // A delta can remove a key; the read leaves it out.
    absl::StatusOr<int64_t> removed =
        txn.StateGroups().StoreGroup(group, {{{"m.room.member", "@u3:sg.test"}, std::nullopt}});
    if (!removed.ok()) return removed.status();
    expected.erase({"m.room.member", "@u3:sg.test"});
    EXPECT_EQ(*txn.StateGroups().LoadState(*removed), expected);
    // A group naming an event that was never stored is refused, not stored with a hole.
    EXPECT_EQ(txn.StateGroups()
                  .StoreGroup(group, {{{"m.room.topic", ""}, std::string("$never")}})
                  .status()
                  .code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(txn.StateGroups().LoadState(987654).status().code(), absl::StatusCode::kNotFound);
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

TEST_F(StateGroupsOnPostgresTest, MigrationFourReplaysALinearRoomIntoStateGroups) {
  Migrate(3);
  // A room as the roomserver wrote it before state groups: a message after every third event.
  ASSERT_TRUE(pool_
                  ->Query({"t_room",
                           "INSERT INTO roomserver_rooms (room_id, room_version, "
                           "created_ts) VALUES ($1, 10, 1)"},
                          {kRoom})
                  .ok());
  std::vector<std::string> ids;
  std::vector<StateMap> expected_after;
  StateMap state;
  std::string prev;
  for (int i = 0; i < 160; ++i) {
    std::string id = absl::StrCat("$m", i);
    bool is_state = i % 3 != 2;
    std::string json = EventJson(i, prev);
    auto r =
        pool_->Query({"t_event",
                      "INSERT INTO roomserver_events (event_id, room_id, event_type, state_key, "
                      "sender, depth, event_json) VALUES ($1, $2, $3, $4, '@u:sg.test', $5, $6)"},
                     {id, kRoom, is_state ? "m.room.member" : "m.room.message",
                      is_state ? std::optional<std::string>(absl::StrCat("@u", i % 30, ":sg.test"))
                               : std::nullopt,
                      int64_t{i + 1}, json});
    ASSERT_TRUE(r.ok()) << r.status();
    if (is_state) state[{"m.room.member", absl::StrCat("@u", i % 30, ":sg.test")}] = id;
    ids.push_back(id);
    expected_after.push_back(state);
    prev = id;
  }
  Migrate(100);

  PgRoomStore store(*pool_);
  absl::Status status = store.Write(kRoom, [&](RoomWriteTxn& txn) -> absl::Status {
    for (size_t i = 0; i < ids.size(); ++i) {
      absl::StatusOr<std::optional<EventPlace>> place = txn.Place(ids[i]);
      if (!place.ok()) return place.status();
      EXPECT_TRUE(place->has_value());
      StateMap before = i == 0 ? StateMap() : expected_after[i - 1];
      EXPECT_EQ(*txn.StateGroups().LoadState((*place)->state_before), before) << ids[i];
      EXPECT_EQ(*txn.StateGroups().LoadState((*place)->state_after), expected_after[i]) << ids[i];
      EXPECT_LE(*txn.StateGroups().Hops((*place)->state_after), kMaxStateDeltaHops);
    }
    absl::StatusOr<int64_t> current = txn.CurrentStateGroup();
    if (!current.ok()) return current.status();
    EXPECT_EQ(*txn.StateGroups().LoadState(*current), expected_after.back());
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
  auto edges = pool_->Query({"t_edges", "SELECT count(*) FROM roomserver_prev_events"});
  ASSERT_TRUE(edges.ok());
  EXPECT_EQ(edges->Int(0, 0), static_cast<int64_t>(ids.size() - 1));
}

}  // namespace
}  // namespace periscope::roomserver
