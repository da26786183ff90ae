// CachingSyncStore against real PostgreSQL: after every kind of write, each cached read answers
// exactly what the PostgreSQL store answers, and a new cache over the same database starts right.

#include "internal/syncapi/storage/caching_sync_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "internal/syncapi/storage/pg_sync_store.h"
#include "pkg/pg/migrations.h"
#include "pkg/status/matrix_status.h"
#include "tests/testing/test_services.h"

namespace periscope::syncapi {
namespace {

constexpr char kRoomA[] = "!a:cache.test";
constexpr char kRoomB[] = "!b:cache.test";
constexpr char kAlice[] = "@alice:cache.test";
constexpr char kBob[] = "@bob:cache.test";

SyncEvent Message(const std::string& room_id, int n) {
  SyncEvent e;
  e.event_id = "$m" + std::to_string(n) + room_id;
  e.room_id = room_id;
  e.type = "m.room.message";
  e.sender = kAlice;
  e.event_json = R"({"n":)" + std::to_string(n) + "}";
  return e;
}

SyncEvent Member(const std::string& room_id, const std::string& user, const std::string& m, int n) {
  SyncEvent e = Message(room_id, n);
  e.type = "m.room.member";
  e.state_key = user;
  e.sender = user;
  e.membership = m;
  return e;
}

std::vector<std::string> Ids(const std::vector<SyncEvent>& events) {
  std::vector<std::string> out;
  for (const SyncEvent& e : events) out.push_back(e.event_id + "=" + e.event_json);
  return out;
}

class CachingSyncStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto pool = pg::Pool::Create({.dsn = db_->dsn(), .max_connections = 2});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    ASSERT_TRUE(pg::ApplyMigrations(*pool_, "syncapi", SyncApiMigrations()).ok());
    pg_ = std::make_unique<PgSyncStore>(*pool_);
    // Two rooms cached, four events each: small enough that trimming and eviction happen.
    auto cache = CachingSyncStore::Create(*pg_, {.rooms = 2, .events_per_room = 4, .users = 8});
    ASSERT_TRUE(cache.ok()) << cache.status();
    cache_ = *std::move(cache);
  }

  int64_t Apply(const SyncEvent& e, bool enters_state = false) {
    auto pos =
        cache_->ApplyEvent(e, enters_state ? OwnStateUpdate(e) : std::vector<StateUpdate>{}, 0);
    EXPECT_TRUE(pos.ok() && pos->has_value());
    return pos.ok() && pos->has_value() ? **pos : 0;
  }

  // Every RecentEvents and ActiveRoomsOf question over positions [0, max] gets PostgreSQL's answer.
  void ExpectSameAnswers() {
    const int64_t max = *cache_->MaxPosition();
    ASSERT_EQ(max, *pg_->MaxPosition());
    for (const char* room : {kRoomA, kRoomB}) {
      for (int64_t from = 0; from <= max; ++from) {
        for (int64_t to = from; to <= max; ++to) {
          for (int limit : {0, 1, 3, 10}) {
            bool cached_limited = false, pg_limited = false;
            auto cached = cache_->RecentEvents(room, from, to, limit, &cached_limited);
            auto pg = pg_->RecentEvents(room, from, to, limit, &pg_limited);
            ASSERT_TRUE(cached.ok() && pg.ok());
            ASSERT_EQ(Ids(*cached), Ids(*pg)) << room << " (" << from << "," << to << "] " << limit;
            ASSERT_EQ(cached_limited, pg_limited) << room << " " << from << " " << to;
          }
        }
      }
    }
    for (const char* user : {kAlice, kBob}) {
      for (int64_t from = 0; from <= max; ++from) {
        auto cached = cache_->ActiveRoomsOf(user, from, max);
        auto pg = pg_->ActiveRoomsOf(user, from, max);
        ASSERT_TRUE(cached.ok() && pg.ok());
        std::sort(cached->begin(), cached->end());
        std::sort(pg->begin(), pg->end());
        ASSERT_EQ(*cached, *pg) << user << " from " << from;
      }
    }
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgSyncStore> pg_;
  std::unique_ptr<CachingSyncStore> cache_;
};

// PostgreSQL's state change log: a message that changes keys other than its own (a merge in the
// roomserver) moves the current state, the state at each position and each key's history.
TEST_F(CachingSyncStoreTest, StateChangesFromAMergeAreLoggedAtTheMergingMessage) {
  SyncEvent join = Member(kRoomA, kBob, "join", 1);
  SyncEvent leave = Member(kRoomA, kBob, "leave", 2);
  const int64_t joined_at = Apply(join, true);
  const int64_t left_at = Apply(leave, true);
  SyncEvent merge = Message(kRoomA, 3);
  auto merged =
      cache_->ApplyEvent(merge, {StateUpdate{"m.room.member", kBob, join.event_id, "join"}}, 0);
  ASSERT_TRUE(merged.ok() && merged->has_value()) << merged.status();
  SyncEvent drop = Message(kRoomA, 4);
  auto dropped =
      cache_->ApplyEvent(drop, {StateUpdate{"m.room.member", kBob, std::nullopt, ""}}, 0);
  ASSERT_TRUE(dropped.ok() && dropped->has_value()) << dropped.status();

  auto state_ids = [&](int64_t pos) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<SyncEvent>> state = pg_->StateAt(kRoomA, pos);
    EXPECT_TRUE(state.ok()) << state.status();
    if (state.ok()) {
      for (const SyncEvent& e : *state) out.push_back(e.event_id);
    }
    return out;
  };
  EXPECT_EQ(state_ids(joined_at), std::vector<std::string>{join.event_id});
  EXPECT_EQ(state_ids(left_at), std::vector<std::string>{leave.event_id});
  EXPECT_EQ(state_ids(**merged), std::vector<std::string>{join.event_id});
  EXPECT_TRUE(state_ids(**dropped).empty());
  EXPECT_TRUE(pg_->CurrentState(kRoomA)->empty());
  EXPECT_EQ(pg_->MembershipIn(kRoomA, kBob)->membership, "");

  absl::StatusOr<std::vector<SyncEvent>> history = pg_->StateHistory(kRoomA, "m.room.member", kBob);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ((*history)[0].pos, joined_at);
  EXPECT_EQ((*history)[2].event_id, join.event_id);
  EXPECT_EQ((*history)[2].pos, **merged);
  EXPECT_EQ((*history)[2].membership, "join");
  EXPECT_TRUE((*history)[3].event_id.empty());
  EXPECT_EQ((*history)[3].pos, **dropped);
}

// An event syncapi holds only as state (a joined room's state, read whole) that comes on the
// stream after all (the roomserver placed an outlier it had) joins the timeline once, at a new
// position, and its state change applies; a redelivery changes nothing.
TEST_F(CachingSyncStoreTest, AStateOnlyEventThatComesOnTheStreamJoinsTheTimelineOnce) {
  SyncEvent join = Member(kRoomA, kAlice, "join", 1);
  SyncEvent topic = Message(kRoomA, 2);
  topic.type = "m.room.topic";
  topic.state_key = "";
  std::vector<StateUpdate> state = OwnStateUpdate(join);
  state.push_back(StateUpdate{"m.room.topic", "", topic.event_id, "", topic.event_json, kAlice});
  auto joined = cache_->ApplyEvent(join, state, 0);
  ASSERT_TRUE(joined.ok() && joined->has_value());
  bool limited = false;
  auto before = cache_->RecentEvents(kRoomA, 0, *cache_->MaxPosition(), 10, &limited);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->size(), 1u);  // the join; the topic is state only

  const int64_t pos = Apply(topic, true);
  EXPECT_GT(pos, **joined);
  auto after = cache_->RecentEvents(kRoomA, 0, *cache_->MaxPosition(), 10, &limited);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ(after->back().event_id, topic.event_id);
  auto again = cache_->ApplyEvent(topic, OwnStateUpdate(topic), 0);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  ExpectSameAnswers();
}

TEST_F(CachingSyncStoreTest, TimelinesAndActiveRoomsMatchPostgres) {
  Apply(Member(kRoomA, kAlice, "join", 0), true);
  ExpectSameAnswers();
  for (int n = 1; n <= 6; ++n) Apply(Message(n % 2 ? kRoomA : kRoomB, n));
  Apply(Member(kRoomB, kBob, "join", 7), true);
  ExpectSameAnswers();  // room A has been trimmed to its last four events
  // A third room evicts the least recently active one.
  Apply(Message("!c:cache.test", 8));
  ExpectSameAnswers();
  Apply(Message(kRoomA, 9));
  ASSERT_TRUE(*cache_->StoreRedacted(kRoomA, Message(kRoomA, 9).event_id, R"({"redacted":1})"));
  ExpectSameAnswers();
  // A redelivery changes nothing.
  EXPECT_FALSE(cache_->ApplyEvent(Message(kRoomA, 9), {}, 0)->has_value());
  ExpectSameAnswers();
}

TEST_F(CachingSyncStoreTest, WritesReachTheCachedReads) {
  // Fill every cache, then change what each holds.
  EXPECT_TRUE(cache_->MembershipsOf(kBob)->empty());
  EXPECT_TRUE(cache_->JoinedUsers(kRoomA)->empty());
  EXPECT_TRUE(cache_->PeeksOf(kBob, "D")->empty());
  EXPECT_TRUE(cache_->PeekingUsers(kRoomA)->empty());
  EXPECT_TRUE(cache_->AccountDataChanges(kBob, 0, 1000)->empty());

  const int64_t join = Apply(Member(kRoomA, kBob, "join", 1), true);
  EXPECT_EQ(*cache_->MaxPosition(), join);
  ASSERT_EQ(cache_->MembershipsOf(kBob)->size(), 1u);
  EXPECT_EQ(cache_->MembershipsOf(kBob)->front().pos, join);
  EXPECT_EQ(*cache_->JoinedUsers(kRoomA), std::vector<std::string>{kBob});
  // A member event that does not enter the state changes no membership.
  Apply(Member(kRoomA, kBob, "leave", 2), false);
  EXPECT_EQ(cache_->MembershipsOf(kBob)->front().membership, "join");

  auto peek = cache_->StartPeek(kRoomB, kBob, "D", 5000, 0);
  ASSERT_TRUE(peek.ok() && peek->has_value());
  EXPECT_EQ(*cache_->MaxPosition(), **peek);
  ASSERT_EQ(cache_->PeeksOf(kBob, "D")->size(), 1u);
  EXPECT_TRUE(cache_->PeeksOf(kBob, "E")->empty());
  EXPECT_EQ(*cache_->PeekingUsers(kRoomB), std::vector<std::string>{kBob});
  ASSERT_TRUE(cache_->RenewPeeks(kBob, "D", 9000).ok());
  EXPECT_EQ(cache_->PeeksOf(kBob, "D")->front().expiry_ts, 9000);
  auto ended = cache_->EndPeek(kRoomB, kBob, "D", "client", 0);
  ASSERT_TRUE(ended.ok() && ended->has_value());
  EXPECT_EQ(cache_->PeeksOf(kBob, "D")->front().ended_pos, **ended);
  EXPECT_TRUE(cache_->PeekingUsers(kRoomB)->empty());

  const int64_t put = *cache_->PutAccountData(kBob, "", "m.x", R"({"a":1})");
  EXPECT_EQ(*cache_->MaxPosition(), put);
  auto changes = cache_->AccountDataChanges(kBob, 0, put);
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_TRUE(cache_->AccountDataChanges(kBob, put, put)->empty());
  EXPECT_TRUE(cache_->AccountDataChanges(kBob, 0, put - 1)->empty());
  const int64_t modified = *cache_->ModifyAccountData(
      kBob, "", "m.x", [](const std::optional<std::string>&) { return std::string(R"({"a":2})"); });
  EXPECT_EQ(cache_->AccountDataChanges(kBob, 0, modified)->front().content_json, R"({"a":2})");
  EXPECT_EQ(*cache_->MaxPosition(), *pg_->MaxPosition());
}

TEST_F(CachingSyncStoreTest, TinyByteBudgetsStillAnswerLikePostgres) {
  auto tiny = CachingSyncStore::Create(*pg_, {.event_bytes = 1500, .keyed_bytes = 600});
  ASSERT_TRUE(tiny.ok());
  CachingSyncStore& cache = **tiny;
  for (int i = 1; i <= 12; ++i) {
    SyncEvent e = i % 3 == 0 ? Member(kRoomA, i % 2 ? kAlice : kBob, "join", i)
                             : Message(i % 2 ? kRoomA : kRoomB, i);
    ASSERT_TRUE(cache.ApplyEvent(e, OwnStateUpdate(e), 0).ok());
    ASSERT_TRUE(cache.PutAccountData(kAlice, "", "t" + std::to_string(i), R"({"n":1})").ok());
    for (const char* room : {kRoomA, kRoomB}) {
      bool a = false, b = false;
      const int64_t to = *pg_->MaxPosition();
      EXPECT_EQ(Ids(*cache.RecentEvents(room, 0, to, 5, &a)),
                Ids(*pg_->RecentEvents(room, 0, to, 5, &b)));
      EXPECT_EQ(a, b);
    }
    EXPECT_EQ(cache.MembershipsOf(kAlice)->size(), pg_->MembershipsOf(kAlice)->size());
    EXPECT_EQ(cache.AccountDataChanges(kAlice, 0, 1'000'000)->size(),
              pg_->AccountDataChanges(kAlice, 0, 1'000'000)->size());
    EXPECT_EQ(*cache.JoinedUsers(kRoomA), *pg_->JoinedUsers(kRoomA));
  }
}

TEST_F(CachingSyncStoreTest, AUserCannotKeepAccountDataWithoutEnd) {
  for (int64_t i = 0; i < kMaxAccountDataEntriesPerUser; ++i) {
    ASSERT_TRUE(pg_->PutAccountData(kAlice, "", "t" + std::to_string(i), "{}").ok()) << i;
  }
  absl::StatusOr<int64_t> one_more = cache_->PutAccountData(kAlice, "", "one.more", "{}");
  EXPECT_EQ(one_more.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MatrixErrcode(one_more.status()), "M_TOO_LARGE");
  absl::StatusOr<int64_t> tag = cache_->ModifyAccountData(
      kAlice, kRoomA, "m.tag", [](const std::optional<std::string>&) { return std::string("{}"); });
  EXPECT_EQ(MatrixErrcode(tag.status()), "M_TOO_LARGE");
  // Replacing an entry it has is always allowed; another user is not affected.
  EXPECT_TRUE(cache_->PutAccountData(kAlice, "", "t0", R"({"v":2})").ok());
  EXPECT_TRUE(cache_->PutAccountData(kBob, "", "t0", "{}").ok());
}

TEST_F(CachingSyncStoreTest, ANewCacheStartsFromTheDatabase) {
  for (int n = 0; n < 5; ++n) Apply(Message(kRoomA, n));
  auto restarted = CachingSyncStore::Create(*pg_);
  ASSERT_TRUE(restarted.ok());
  cache_ = *std::move(restarted);
  EXPECT_EQ(*cache_->MaxPosition(), *pg_->MaxPosition());
  ExpectSameAnswers();  // nothing cached yet: every answer is PostgreSQL's
  Apply(Message(kRoomA, 5));
  ExpectSameAnswers();
}

}  // namespace
}  // namespace periscope::syncapi
