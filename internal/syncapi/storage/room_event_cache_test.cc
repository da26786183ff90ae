#include "internal/syncapi/storage/room_event_cache.h"

#include <gtest/gtest.h>

namespace periscope::syncapi {
namespace {

SyncEvent Event(const std::string& room_id, int64_t pos) {
  SyncEvent e;
  e.room_id = room_id;
  e.pos = pos;
  e.event_id = "$" + std::to_string(pos);
  e.event_json = "{}";
  return e;
}

std::vector<int64_t> Positions(const std::optional<std::vector<SyncEvent>>& events) {
  std::vector<int64_t> out;
  for (const SyncEvent& e : *events) out.push_back(e.pos);
  return out;
}

TEST(RoomEventCacheTest, UnknownRoomIsNotAnswered) {
  RoomEventCache cache(4, 8, size_t{1} << 30);
  bool limited = false;
  EXPECT_FALSE(cache.Recent("!a:x", 0, 10, 10, &limited).has_value());
  EXPECT_FALSE(cache.HasEventsIn("!a:x", 0, 10).has_value());
}

TEST(RoomEventCacheTest, CompleteAfterTheFirstCachedEvent) {
  RoomEventCache cache(4, 8, size_t{1} << 30);
  cache.Append(Event("!a:x", 10));
  cache.Append(Event("!b:x", 11));
  cache.Append(Event("!a:x", 12));
  bool limited = true;
  // From 9 on, every event of !a is cached.
  EXPECT_EQ(Positions(cache.Recent("!a:x", 9, 12, 10, &limited)), (std::vector<int64_t>{10, 12}));
  EXPECT_FALSE(limited);
  EXPECT_EQ(Positions(cache.Recent("!a:x", 10, 11, 10, &limited)), (std::vector<int64_t>{}));
  EXPECT_EQ(cache.HasEventsIn("!a:x", 10, 11), false);
  EXPECT_EQ(cache.HasEventsIn("!a:x", 10, 12), true);
  // Before that, the cache cannot tell what it lacks...
  EXPECT_FALSE(cache.Recent("!a:x", 5, 12, 10, &limited).has_value());
  EXPECT_FALSE(cache.HasEventsIn("!a:x", 5, 9).has_value());
  // ...unless the limit is reached inside what it holds, or an event is in the range.
  EXPECT_EQ(Positions(cache.Recent("!a:x", 5, 12, 1, &limited)), (std::vector<int64_t>{12}));
  EXPECT_TRUE(limited);
  EXPECT_EQ(cache.HasEventsIn("!a:x", 5, 10), true);
}

TEST(RoomEventCacheTest, LimitZeroTellsOnlyWhetherThereIsMore) {
  RoomEventCache cache(4, 8, size_t{1} << 30);
  cache.Append(Event("!a:x", 3));
  bool limited = false;
  EXPECT_EQ(Positions(cache.Recent("!a:x", 2, 3, 0, &limited)), (std::vector<int64_t>{}));
  EXPECT_TRUE(limited);
  EXPECT_EQ(Positions(cache.Recent("!a:x", 3, 3, 0, &limited)), (std::vector<int64_t>{}));
  EXPECT_FALSE(limited);
}

TEST(RoomEventCacheTest, TrimmingMovesCompleteness) {
  RoomEventCache cache(4, 3, size_t{1} << 30);
  for (int64_t pos = 1; pos <= 5; ++pos) cache.Append(Event("!a:x", pos));
  bool limited = false;
  EXPECT_EQ(Positions(cache.Recent("!a:x", 2, 5, 10, &limited)), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_FALSE(limited);
  EXPECT_FALSE(cache.Recent("!a:x", 1, 5, 10, &limited).has_value());
  EXPECT_EQ(Positions(cache.Recent("!a:x", 0, 5, 2, &limited)), (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(limited);
}

TEST(RoomEventCacheTest, LeastRecentlyActiveRoomIsEvicted) {
  RoomEventCache cache(2, 4, size_t{1} << 30);
  cache.Append(Event("!a:x", 1));
  cache.Append(Event("!b:x", 2));
  cache.Append(Event("!a:x", 3));
  cache.Append(Event("!c:x", 4));  // evicts !b
  EXPECT_EQ(cache.rooms(), 2u);
  EXPECT_FALSE(cache.HasEventsIn("!b:x", 1, 4).has_value());
  EXPECT_EQ(cache.HasEventsIn("!a:x", 1, 4), true);
  cache.Forget("!a:x");
  EXPECT_FALSE(cache.HasEventsIn("!a:x", 1, 4).has_value());
}

TEST(RoomEventCacheTest, RedactionReplacesTheCachedJson) {
  RoomEventCache cache(2, 4, size_t{1} << 30);
  cache.Append(Event("!a:x", 1));
  cache.Redact("!a:x", "$1", R"({"redacted":true})");
  bool limited = false;
  EXPECT_EQ(cache.Recent("!a:x", 0, 1, 10, &limited)->front().event_json, R"({"redacted":true})");
}

TEST(RoomEventCacheTest, MemoryStaysWithinTheByteBudgetWhateverTheEventSizes) {
  // Room counts and event counts would allow 64 x 64 events; the bytes allow a few big ones.
  SyncEvent big = Event("!a:x", 1);
  big.event_json = std::string(10'000, 'x');
  const size_t budget = 3 * RoomEventCache::EventBytes(big);
  RoomEventCache cache(64, 64, budget);
  int64_t pos = 0;
  for (const char* room : {"!a:x", "!b:x", "!c:x", "!d:x", "!a:x", "!a:x", "!a:x"}) {
    SyncEvent e = Event(room, ++pos);
    e.event_json = big.event_json;
    cache.Append(e);
    EXPECT_LE(cache.bytes(), budget) << pos;
  }
  // The least recently written rooms went first; the room written last keeps its newest events
  // and is still answered correctly: complete only from where it starts.
  bool limited = false;
  EXPECT_FALSE(cache.Recent("!b:x", 0, pos, 10, &limited).has_value());
  EXPECT_EQ(Positions(cache.Recent("!a:x", 4, pos, 10, &limited)), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_FALSE(cache.Recent("!a:x", 0, pos, 10, &limited).has_value());  // event 1 was dropped
  // One event larger than the whole budget is kept alone (the room's newest must be answerable).
  SyncEvent huge = Event("!e:x", ++pos);
  huge.event_json = std::string(budget, 'y');
  cache.Append(huge);
  EXPECT_EQ(cache.rooms(), 1u);
}

}  // namespace
}  // namespace periscope::syncapi
