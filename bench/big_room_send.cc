// The cost of sending into a room whose state holds 10,000 members (issue 13), through the
// roomserver's own write path (EventSender → EventWriter → RoomDag → PostgreSQL; no HTTP, no
// NATS: the outbox is written and left): per send, the time and the state-group rows it adds,
// beside the same sends into a 10-member room and PostgreSQL's commit floor in the same run.
// The state at a new event must be a delta (one row for a state event, none for a message),
// never a copy of the room's 10,000 state rows.
//
// Run: bench/run-roomserver big_room_send (it starts PostgreSQL and sets TEST_POSTGRES_DSN).
// BENCH_MEMBERS (default 10000) and BENCH_SENDS (default 300) change the sizes.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "internal/roomserver/perform/event_sender.h"
#include "internal/roomserver/perform/event_writer.h"
#include "internal/roomserver/perform/membership_changer.h"
#include "internal/roomserver/perform/room_creator.h"
#include "internal/roomserver/storage/pg_room_store.h"
#include "pkg/clock/clock.h"
#include "pkg/crypto/random.h"
#include "pkg/matrix/signing_key.h"
#include "pkg/pg/migrations.h"
#include "tests/testing/test_services.h"

namespace periscope::roomserver {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : std::atoi(value);
}

void Check(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, std::string(status.message()).c_str());
  std::exit(1);
}

int64_t Count(pg::Pool& pool, const char* table) {
  absl::StatusOr<pg::Lease> lease = pool.Acquire();
  Check(lease.status(), "acquire");
  absl::StatusOr<pg::Result> r =
      (*lease)->QueryOnce(absl::StrCat("SELECT count(*) FROM ", table));  // fixed names
  Check(r.status(), table);
  return r->Int(0, 0);
}

struct Bench {
  pg::Pool& pool;
  EventSender& sender;
  MembershipChanger& members;
  RoomCreator& creator;

  std::string RoomWithMembers(int count) {
    v1::PerformCreateRoomRequest create;
    create.set_user_id("@alice:bench.test");
    create.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
    absl::StatusOr<v1::PerformCreateRoomResponse> room = creator.Create(create);
    Check(room.status(), "create");
    for (int i = 0; i < count; ++i) {
      v1::PerformMembershipRequest join;
      join.set_sender(absl::StrCat("@u", i, ":bench.test"));
      join.set_room_id_or_alias(room->room_id());
      join.set_action(v1::MEMBERSHIP_ACTION_JOIN);
      Check(members.Change(join).status(), "join");
      if ((i + 1) % 2000 == 0) std::fprintf(stderr, "  %d members\n", i + 1);
    }
    return room->room_id();
  }

  // Sends `n` events of one kind; prints the time per send and the state rows per send.
  void Measure(const std::string& label, const std::string& room, int n, bool state) {
    const int64_t groups_before = Count(pool, "roomserver_state_groups");
    const int64_t entries_before = Count(pool, "roomserver_state_group_entries");
    const absl::Time start = absl::Now();
    for (int i = 0; i < n; ++i) {
      v1::PerformSendEventRequest send;
      send.set_user_id("@alice:bench.test");
      send.set_room_id(room);
      if (state) {
        send.set_event_type("m.room.topic");
        send.set_state_key("");
        send.set_content_json(absl::StrCat(R"({"topic":"topic )", i, R"("})"));
      } else {
        send.set_event_type("m.room.message");
        send.set_content_json(absl::StrCat(R"({"msgtype":"m.text","body":"message )", i, R"("})"));
      }
      Check(sender.Send(send).status(), "send");
    }
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start) / n;
    const double groups = double(Count(pool, "roomserver_state_groups") - groups_before) / n;
    const double entries =
        double(Count(pool, "roomserver_state_group_entries") - entries_before) / n;
    std::printf("| %s | %.2f ms | %.2f | %.2f |\n", label.c_str(), ms, groups, entries);
  }
};

// One-row INSERT transactions on a scratch table: the durable-commit floor of this disk.
double CommitFloorMs(pg::Pool& pool, int n) {
  Check(pool.Transaction([](pg::Connection& c) {
    return c.Execute("CREATE TABLE IF NOT EXISTS bench_floor (n BIGINT)");
  }),
        "floor");
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) {
    Check(pool.Transaction([&](pg::Connection& c) {
      return c.QueryOnce("INSERT INTO bench_floor VALUES ($1)", {int64_t{i}}).status();
    }),
          "floor insert");
  }
  return absl::ToDoubleMilliseconds(absl::Now() - start) / n;
}

int Main() {
  crypto::InitSodium();
  const int members = EnvInt("BENCH_MEMBERS", 10'000);
  const int sends = EnvInt("BENCH_SENDS", 300);
  absl::StatusOr<std::unique_ptr<periscope::testing::TestDatabase>> db =
      periscope::testing::TestDatabase::Create();
  Check(db.status(), "database (run through bench/run-roomserver)");
  absl::StatusOr<std::unique_ptr<pg::Pool>> pool =
      pg::Pool::Create({.dsn = (*db)->dsn(), .max_connections = 2});
  Check(pool.status(), "pool");
  Check(pg::ApplyMigrations(**pool, "roomserver", RoomserverMigrations()), "migrations");
  PgRoomStore store(**pool);
  matrix::SigningKey key = *matrix::GenerateSigningKey("b1");
  EventWriter writer("bench.test", key, SystemClock::Get());
  RoomCreator creator(store, writer);
  EventSender sender(store, writer);
  MembershipChanger changer(store, writer);
  Bench bench{**pool, sender, changer, creator};

  std::fprintf(stderr, "building a room of %d members...\n", members);
  const absl::Time built_start = absl::Now();
  const std::string big = bench.RoomWithMembers(members);
  const double join_ms = absl::ToDoubleMilliseconds(absl::Now() - built_start) / members;
  const std::string small = bench.RoomWithMembers(10);

  std::printf("| room | per send | new state groups per send | new state rows per send |\n");
  std::printf("|---|---|---|---|\n");
  bench.Measure(absl::StrCat(members, " members, m.room.message"), big, sends, false);
  bench.Measure(absl::StrCat(members, " members, m.room.topic"), big, sends, true);
  bench.Measure("10 members, m.room.message", small, sends, false);
  bench.Measure("10 members, m.room.topic", small, sends, true);
  std::printf("\njoins while building: %.2f ms each\n", join_ms);
  std::printf("PostgreSQL floor, same run: %.3f ms per one-row durable commit\n",
              CommitFloorMs(**pool, 500));
  return 0;
}

}  // namespace
}  // namespace periscope::roomserver

int main() { return periscope::roomserver::Main(); }
