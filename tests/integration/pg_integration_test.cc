// pkg/pg against a real PostgreSQL (TEST_POSTGRES_DSN, started by scripts/test).

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "pkg/pg/array.h"
#include "pkg/pg/migrations.h"
#include "pkg/pg/pg.h"
#include "tests/testing/test_services.h"

namespace periscope::pg {
namespace {

constexpr Statement kInsert{"t_insert", "INSERT INTO items (name, n) VALUES ($1, $2)"};
constexpr Statement kSelect{"t_select", "SELECT name, n, note FROM items WHERE name = $1"};
constexpr Statement kCount{"t_count", "SELECT count(*) FROM items"};

const std::vector<Migration> kMigrations = {
    {1, "items", "CREATE TABLE items (name TEXT PRIMARY KEY, n BIGINT NOT NULL)"},
    {2, "items note", "ALTER TABLE items ADD COLUMN note TEXT"},
};

class PgIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::TestDatabase>> db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(
        {.dsn = db_->dsn(), .max_connections = 3, .acquire_timeout = absl::Milliseconds(300)});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    ASSERT_TRUE(ApplyMigrations(*pool_, "test", kMigrations).ok());
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Pool> pool_;
};

TEST_F(PgIntegrationTest, ArrayLiteralsArriveAsThemselves) {
  const std::vector<std::string> strings = {
      "plain", "", "NULL", "with \"quotes\"", "back\\slash", "{braces},commas", " spaced ", "ünï"};
  absl::StatusOr<Result> r = pool_->Query(
      {"t_unnest_text", "SELECT x FROM unnest($1::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i"},
      {ArrayLiteral(strings)});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows(), static_cast<int>(strings.size()));
  for (int i = 0; i < r->rows(); ++i) {
    EXPECT_FALSE(r->IsNull(i, 0)) << i;
    EXPECT_EQ(r->Text(i, 0), strings[i]) << i;
  }
  r = pool_->Query({"t_unnest_int", "SELECT sum(x) FROM unnest($1::bigint[]) AS t(x)"},
                   {ArrayLiteral(std::vector<int64_t>{1, -2, int64_t{1} << 40})});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Int(0, 0), 1 - 2 + (int64_t{1} << 40));
  r = pool_->Query({"t_unnest_empty", "SELECT count(*) FROM unnest($1::text[])"},
                   {ArrayLiteral(std::vector<std::string>{})});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Int(0, 0), 0);
}

TEST_F(PgIntegrationTest, MigrationsAreRecordedAndIdempotent) {
  EXPECT_EQ(*SchemaVersion(*pool_, "test"), 2);
  EXPECT_EQ(*SchemaVersion(*pool_, "other"), 0);
  EXPECT_TRUE(ApplyMigrations(*pool_, "test", kMigrations).ok());  // nothing to do
  EXPECT_EQ(*SchemaVersion(*pool_, "test"), 2);
}

TEST_F(PgIntegrationTest, OlderBinaryRefusesNewerSchema) {
  absl::Status s = ApplyMigrations(*pool_, "test", {kMigrations[0]});
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

TEST_F(PgIntegrationTest, MisnumberedMigrationsAreRejected) {
  absl::Status s = ApplyMigrations(*pool_, "bad", {{2, "x", "SELECT 1"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(*SchemaVersion(*pool_, "bad"), 0);
}

TEST_F(PgIntegrationTest, FailedMigrationChangesNothing) {
  absl::Status s = ApplyMigrations(
      *pool_, "broken", {{1, "ok", "CREATE TABLE broken_a (x INT)"}, {2, "bad", "NOT SQL"}});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(*SchemaVersion(*pool_, "broken"), 0);
  EXPECT_FALSE(pool_->Query({"t_broken", "SELECT * FROM broken_a"}).ok());
}

TEST_F(PgIntegrationTest, ConcurrentStartersApplyOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  const std::vector<Migration> m = {{1, "c", "CREATE TABLE concurrent_t (x INT)"}};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<std::unique_ptr<Pool>> p = Pool::Create({.dsn = db_->dsn()});
      if (!p.ok() || !ApplyMigrations(**p, "concurrent", m).ok()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(*SchemaVersion(*pool_, "concurrent"), 1);
}

TEST_F(PgIntegrationTest, PreparedStatementsAndNulls) {
  ASSERT_TRUE(pool_->Query(kInsert, {"a", int64_t{42}}).ok());
  absl::StatusOr<Result> r = pool_->Query(kSelect, {"a"});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows(), 1);
  EXPECT_EQ(r->Text(0, 0), "a");
  EXPECT_EQ(r->Int(0, 1), 42);
  EXPECT_TRUE(r->IsNull(0, 2));
}

TEST_F(PgIntegrationTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(pool_->Query(kInsert, {"dup", 1}).ok());
  EXPECT_EQ(pool_->Query(kInsert, {"dup", 2}).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(PgIntegrationTest, TransactionCommitsOrRollsBackWhole) {
  absl::Status s = pool_->Transaction([](Connection& c) -> absl::Status {
    if (auto r = c.Query(kInsert, {"t1", 1}); !r.ok()) return r.status();
    return c.Query(kInsert, {"t1", 2}).status();  // duplicate: the whole transaction goes
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 0);

  s = pool_->Transaction([](Connection& c) -> absl::Status {
    if (auto r = c.Query(kInsert, {"t1", 1}); !r.ok()) return r.status();
    return c.Query(kInsert, {"t2", 2}).status();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 2);
}

TEST_F(PgIntegrationTest, LostConnectionIsReestablished) {
  ASSERT_TRUE(pool_->Query(kCount).ok());  // prepares kCount on the pooled connection
  // Kill every other session of this database, as a PostgreSQL restart or failover would.
  absl::StatusOr<std::unique_ptr<Connection>> admin = Connection::Open(db_->dsn());
  ASSERT_TRUE(admin.ok());
  absl::StatusOr<Result> killed = (*admin)->QueryOnce(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_GE(killed->Int(0, 0), 1);

  absl::StatusOr<Result> after = pool_->Query(kCount);
  EXPECT_TRUE(after.ok()) << after.status();
  // A transaction on a killed idle connection also recovers.
  (void)(*admin)->QueryOnce(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  EXPECT_TRUE(pool_->Transaction([](Connection& c) { return c.Query(kCount).status(); }).ok());
}

// Kills every other session of the test database, as a PostgreSQL restart or failover would.
void KillOtherSessions(const std::string& dsn) {
  absl::StatusOr<std::unique_ptr<Connection>> admin = Connection::Open(dsn);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)
                  ->QueryOnce("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                              "datname = current_database() AND pid <> pg_backend_pid()")
                  .ok());
}

TEST_F(PgIntegrationTest, AWriteOnAConnectionKilledWhileIdleRunsOnceOnAFreshOne) {
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(
      {.dsn = db_->dsn(), .max_connections = 1, .validate_after_idle = absl::ZeroDuration()});
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->Query(kInsert, {"before", 1}).ok());  // prepares kInsert
  KillOtherSessions(db_->dsn());
  absl::StatusOr<Result> write = (*pool)->Query(kInsert, {"after", 2});
  EXPECT_TRUE(write.ok()) << write.status();
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 2);
}

TEST_F(PgIntegrationTest, AWriteWhoseSessionDiesMidStatementIsNotRunAgain) {
  // The INSERT sleeps, its session is killed meanwhile: whether it committed is unknown to the
  // client, so the pool must not run it again (it would apply twice had it committed).
  constexpr Statement kSlowInsert{"t_slow_insert",
                                  "INSERT INTO items (name, n) SELECT $1, 1 FROM pg_sleep(0.5)"};
  std::thread killer([&] {
    absl::SleepFor(absl::Milliseconds(150));
    KillOtherSessions(db_->dsn());
  });
  absl::StatusOr<Result> write = pool_->Query(kSlowInsert, {"slow"});
  killer.join();
  EXPECT_EQ(write.status().code(), absl::StatusCode::kUnavailable) << write.status();
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 0) << "the killed INSERT was run again";
}

TEST_F(PgIntegrationTest, AStatementPastTheStatementTimeoutIsCancelled) {
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(
      {.dsn = db_->dsn(), .max_connections = 1, .statement_timeout = absl::Milliseconds(200)});
  ASSERT_TRUE(pool.ok());
  constexpr Statement kSleep{"t_sleep", "SELECT pg_sleep(5)"};
  const absl::Time start = absl::Now();
  absl::StatusOr<Result> r = (*pool)->Query(kSleep);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_TRUE((*pool)->Query(kCount).ok());  // the connection is still usable
}

TEST_F(PgIntegrationTest, ExhaustedPoolFailsWithUnavailable) {
  std::vector<Lease> held;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<Lease> l = pool_->Acquire();
    ASSERT_TRUE(l.ok());
    held.push_back(*std::move(l));
  }
  absl::StatusOr<Lease> extra = pool_->Acquire();
  EXPECT_EQ(extra.status().code(), absl::StatusCode::kUnavailable);
  held.pop_back();
  EXPECT_TRUE(pool_->Acquire().ok());
}

// ---- Deferred statements (pipelined with the next statement that needs an answer) ----

TEST_F(PgIntegrationTest, DeferredStatementsGoWithTheNextQueryInOneRoundTrip) {
  absl::StatusOr<Lease> lease = pool_->Acquire();
  ASSERT_TRUE(lease.ok());
  Connection& c = **lease;
  const int64_t before = c.round_trips();
  c.Defer(kInsert, {"d1", 1});
  c.Defer(kInsert, {"d2", 2});
  EXPECT_EQ(c.deferred(), 2u);
  absl::StatusOr<Result> count = c.Query(kCount);  // kCount not prepared yet either
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(count->Int(0, 0), 2) << "the deferred inserts ran first, in order";
  EXPECT_EQ(c.round_trips() - before, 1);
  EXPECT_EQ(c.deferred(), 0u);
  // Prepared inside the pipeline: later uses need no preparation.
  const int64_t after = c.round_trips();
  ASSERT_TRUE(c.Query(kInsert, {"d3", 3}).ok());
  EXPECT_EQ(c.round_trips() - after, 1);
}

TEST_F(PgIntegrationTest, ADeferredFailureIsTheNextCallsErrorAndWhatFollowsItDoesNotRun) {
  absl::StatusOr<Lease> lease = pool_->Acquire();
  ASSERT_TRUE(lease.ok());
  Connection& c = **lease;
  ASSERT_TRUE(c.Query(kInsert, {"dup", 1}).ok());
  c.Defer(kInsert, {"dup", 2});      // fails: unique violation
  c.Defer(kInsert, {"skipped", 3});  // after the failure: not run
  constexpr Statement kNew{"t_new_after_failure", "SELECT count(*) FROM items WHERE n >= $1"};
  absl::StatusOr<Result> r = c.Query(kNew, {0});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists) << r.status();
  EXPECT_EQ(pool_->Query(kSelect, {"skipped"})->rows(), 0);
  // kNew's preparation was skipped with it: it is prepared again when next used.
  r = c.Query(kNew, {0});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->Int(0, 0), 1);
}

TEST_F(PgIntegrationTest, ATransactionsDeferredWritesCommitWithItAndFailItWhole) {
  absl::Status s = pool_->Transaction([](Connection& c) -> absl::Status {
    c.Defer(kInsert, {"w1", 1});
    c.Defer(kInsert, {"w2", 2});
    return absl::OkStatus();  // BEGIN, both inserts and COMMIT in one round trip
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 2);

  s = pool_->Transaction([](Connection& c) -> absl::Status {
    c.Defer(kInsert, {"w3", 3});
    c.Defer(kInsert, {"w1", 4});  // duplicate: fails at COMMIT's round trip
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 2) << "w3 must not have committed";

  // A body that fails before anything was sent leaves nothing behind on the connection.
  s = pool_->Transaction([](Connection& c) -> absl::Status {
    c.Defer(kInsert, {"w5", 5});
    return absl::FailedPreconditionError("refused");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(pool_->Transaction([](Connection& c) { return c.Query(kCount).status(); }).ok());
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 2);
}

TEST_F(PgIntegrationTest, ATransactionOnAConnectionKilledWhileIdleRunsOnceOnAFreshOne) {
  // The connection is not checked before use (validate_after_idle is long): the transaction's
  // first round trip (BEGIN, the deferred insert, the count) meets the dead session, and is sent
  // again on a fresh one. Nothing of it can have committed.
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(
      {.dsn = db_->dsn(), .max_connections = 1, .validate_after_idle = absl::Hours(1)});
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->Query(kCount).ok());
  KillOtherSessions(db_->dsn());
  int64_t seen = -1;
  absl::Status s = (*pool)->Transaction([&](Connection& c) -> absl::Status {
    c.Defer(kInsert, {"once", 1});
    absl::StatusOr<Result> r = c.Query(kCount);
    if (!r.ok()) return r.status();
    seen = r->Int(0, 0);
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 1);
}

TEST_F(PgIntegrationTest, AKilledRoundTripThatCarriedCommitIsNotSentAgain) {
  // BEGIN, a write and COMMIT in one round trip on a dead session: whether it committed is not
  // known to the client in general, so it is not sent again (the caller gets UNAVAILABLE).
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(
      {.dsn = db_->dsn(), .max_connections = 1, .validate_after_idle = absl::Hours(1)});
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)->Query(kCount).ok());
  KillOtherSessions(db_->dsn());
  absl::Status s = (*pool)->Transaction([&](Connection& c) -> absl::Status {
    c.Defer(kInsert, {"maybe", 1});
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(pool_->Query(kCount)->Int(0, 0), 0);
  EXPECT_TRUE((*pool)->Query(kCount).ok()) << "the pool replaces the dead connection";
}

TEST(PgConnectTest, BadDsnIsUnavailable) {
  absl::StatusOr<std::unique_ptr<Pool>> p =
      Pool::Create({.dsn = "host=127.0.0.1 port=1 connect_timeout=2"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace periscope::pg
