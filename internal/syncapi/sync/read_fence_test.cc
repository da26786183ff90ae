// Read-your-writes: a read waits until syncapi has applied what the roomserver committed, and
// never longer than its bound; a roomserver that cannot be asked does not block reads.

#include "internal/syncapi/sync/read_fence.h"

#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "internal/syncapi/testing/fake_sync_store.h"

namespace periscope::syncapi {
namespace {

class FixedSource final : public RoomSequenceSource {
 public:
  explicit FixedSource(absl::StatusOr<int64_t> answer) : answer_(std::move(answer)) {}
  absl::StatusOr<int64_t> LatestSequence(const std::string&) override { return answer_; }

 private:
  absl::StatusOr<int64_t> answer_;
};

TEST(ReadFenceTest, AReadWaitsUntilTheCommittedWritesAreApplied) {
  testing::FakeSyncStore store;
  AppliedSequences applied(store);
  FixedSource source(3);
  ReadFence fence(&source, applied, absl::Seconds(10), nullptr);
  applied.Applied("!r:t", 2);
  std::thread consumer([&] {
    absl::SleepFor(absl::Milliseconds(100));
    applied.Applied("!r:t", 3);
  });
  const absl::Time start = absl::Now();
  fence.CatchUp("!r:t");
  const absl::Duration waited = absl::Now() - start;
  consumer.join();
  EXPECT_GE(waited, absl::Milliseconds(90));
  EXPECT_LT(waited, absl::Seconds(5));
}

TEST(ReadFenceTest, ARoomNotSeenSinceStartIsReadFromTheStore) {
  testing::FakeSyncStore store;
  ASSERT_TRUE(*store.AdvanceRoomSequence("!r:t", 7));
  AppliedSequences applied(store);
  EXPECT_TRUE(applied.WaitFor("!r:t", 7, absl::ZeroDuration()));
  EXPECT_FALSE(applied.WaitFor("!r:t", 8, absl::Milliseconds(10)));
}

TEST(ReadFenceTest, TheWaitIsBoundedAndAnUnreachableWriterDoesNotBlock) {
  testing::FakeSyncStore store;
  AppliedSequences applied(store);
  FixedSource ahead(5);
  ReadFence bounded(&ahead, applied, absl::Milliseconds(100), nullptr);
  absl::Time start = absl::Now();
  bounded.CatchUp("!r:t");  // nothing will ever apply 5
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(90));

  FixedSource down(absl::UnavailableError("roomserver down"));
  ReadFence unavailable(&down, applied, absl::Seconds(30), nullptr);
  start = absl::Now();
  unavailable.CatchUp("!r:t");
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST(ReadFenceTest, ASequenceThatSkipsAheadIsAGapAndSaidSo) {
  testing::FakeSyncStore store;
  AppliedSequences applied(store);
  applied.Applied("!r:t", 1);
  applied.Applied("!r:t", 2);
  applied.Applied("!r:t", 2);  // a redelivery: no gap
  EXPECT_EQ(applied.gaps(), 0);
  applied.Applied("!r:t", 5);  // 3 and 4 never came
  EXPECT_EQ(applied.gaps(), 1);
}

}  // namespace
}  // namespace periscope::syncapi
