// The relay against a fake outbox whose transactions commit when the test says, and a fake
// stream: what must not happen is a committed message that never reaches the stream, or one
// that reaches it twice.

#include "internal/roomserver/output/outbox_relay.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "pkg/stream/testing/fake_publisher.h"

namespace periscope::roomserver {
namespace {

// An outbox whose rows become visible at Commit, like PostgreSQL's under READ COMMITTED:
// positions are taken at Insert, in Insert order, not in commit order.
class FakeOutbox final : public OutboxStore {
 public:
  int64_t Insert(std::string msg_id, std::string room = "room") {
    absl::MutexLock lock(&mu_);
    int64_t pos = ++next_;
    rows_[pos] = {pos, std::move(msg_id), std::move(room), "payload"};
    return pos;
  }
  void Commit(int64_t pos) {
    absl::MutexLock lock(&mu_);
    committed_.push_back(pos);
  }

  absl::StatusOr<std::vector<OutboxEntry>> PendingOutput(const std::vector<std::string>& skip,
                                                         int limit) override {
    absl::MutexLock lock(&mu_);
    std::vector<OutboxEntry> out;
    for (const auto& [pos, row] : rows_) {
      if (std::find(skip.begin(), skip.end(), row.subject_suffix) != skip.end()) continue;
      if (std::find(committed_.begin(), committed_.end(), pos) == committed_.end()) continue;
      if (static_cast<int>(out.size()) == limit) break;
      out.push_back(row);
    }
    return out;
  }
  absl::Status MarkOutputPublished(const std::vector<int64_t>& positions) override {
    absl::MutexLock lock(&mu_);
    if (fail_deletes_ > 0) {
      --fail_deletes_;
      return absl::UnavailableError("fake outbox: delete failed");
    }
    for (int64_t pos : positions) {
      // Only committed rows can be deleted (and only what the relay names).
      if (std::find(committed_.begin(), committed_.end(), pos) != committed_.end()) {
        rows_.erase(pos);
      }
    }
    return absl::OkStatus();
  }
  absl::StatusOr<OutboxDepth> Depth() override {
    absl::MutexLock lock(&mu_);
    int64_t n = 0;
    for (const auto& [pos, row] : rows_) {
      n += std::find(committed_.begin(), committed_.end(), pos) != committed_.end();
    }
    return OutboxDepth{n, 0};
  }
  void FailDeletes(int n) {
    absl::MutexLock lock(&mu_);
    fail_deletes_ = n;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return rows_.size();
  }

 private:
  absl::Mutex mu_;
  int64_t next_ = 0;
  int fail_deletes_ = 0;
  std::map<int64_t, OutboxEntry> rows_;
  std::vector<int64_t> committed_;
};

std::vector<std::string> Ids(const stream::testing::FakePublisher& publisher) {
  std::vector<std::string> out;
  for (const auto& p : publisher.published()) out.push_back(p.msg_id);
  return out;
}

TEST(OutboxRelayTest, AnEarlierPositionThatCommitsDuringARunIsPublishedByTheNext) {
  FakeOutbox outbox;
  stream::testing::FakePublisher stream;
  OutboxRelay relay(outbox, stream, "prefix");
  int64_t a = outbox.Insert("$a");  // room A takes position 1 ...
  int64_t b = outbox.Insert("$b");  // ... room B takes 2 and commits first
  outbox.Commit(b);
  // A commits while the relay is publishing B: a relay that deleted "everything up to B" would
  // now delete A unpublished.
  stream.OnPublish([&] { outbox.Commit(a); });
  ASSERT_TRUE(relay.PublishPending().ok());
  stream.OnPublish(nullptr);
  EXPECT_EQ(Ids(stream), std::vector<std::string>({"$b"}));
  ASSERT_TRUE(relay.PublishPending().ok());
  EXPECT_EQ(Ids(stream), std::vector<std::string>({"$b", "$a"}));
  EXPECT_EQ(outbox.size(), 0u);
}

TEST(OutboxRelayTest, AFailedPublishStopsTheRunAndTheNextResumesInOrderWithoutRepeats) {
  FakeOutbox outbox;
  stream::testing::FakePublisher stream;
  OutboxRelay relay(outbox, stream, "prefix");
  for (const char* id : {"$1", "$2", "$3"}) outbox.Commit(outbox.Insert(id));
  // The first goes out, the second is refused: the third must not overtake it.
  int calls = 0;
  stream.OnPublish([&] {
    if (++calls == 2) stream.FailNext(1);
  });
  EXPECT_FALSE(relay.PublishPending().ok());
  EXPECT_EQ(Ids(stream), std::vector<std::string>({"$1"}));
  EXPECT_EQ(outbox.size(), 2u);  // the published one is forgotten at once
  stream.OnPublish(nullptr);
  ASSERT_TRUE(relay.PublishPending().ok());
  EXPECT_EQ(Ids(stream), std::vector<std::string>({"$1", "$2", "$3"}));
  EXPECT_EQ(outbox.size(), 0u);
}

// Rooms go together, each room's messages one after another: a refused publish holds back the
// rest of its own room (none of them may reach the stream before it), not the other rooms'.
TEST(OutboxRelayTest, AFailedPublishHoldsBackOnlyItsOwnRoom) {
  FakeOutbox outbox;
  stream::testing::FakePublisher stream;
  OutboxRelay relay(outbox, stream, "prefix");
  for (auto [id, room] : std::vector<std::pair<const char*, const char*>>{
           {"$a1", "A"}, {"$b1", "B"}, {"$a2", "A"}, {"$b2", "B"}, {"$a3", "A"}}) {
    outbox.Commit(outbox.Insert(id, room));
  }
  stream.FailNext(1);  // the first round is $a1 and $b1: $a1 is refused
  EXPECT_FALSE(relay.PublishPending().ok());
  EXPECT_EQ(Ids(stream), std::vector<std::string>({"$b1", "$b2"}));
  EXPECT_EQ(outbox.size(), 3u);
  ASSERT_TRUE(relay.PublishPending().ok());
  EXPECT_EQ(Ids(stream), std::vector<std::string>({"$b1", "$b2", "$a1", "$a2", "$a3"}));
  EXPECT_EQ(outbox.size(), 0u);
  for (const auto& p : stream.published()) {
    EXPECT_EQ(p.subject, absl::StrCat("prefix.", p.msg_id[1] == 'a' ? "A" : "B"));
  }
}

// A message of one room that the stream keeps refusing holds back the rest of its room, run after
// run, but not the other rooms, however many of their messages wait behind it.
TEST(OutboxRelayTest, ARoomWhoseMessageIsRefusedHoldsBackOnlyItselfAcrossManyBatches) {
  FakeOutbox outbox;
  stream::testing::FakePublisher stream;
  OutboxRelay relay(outbox, stream, "prefix");
  outbox.Commit(outbox.Insert("$a1", "A"));
  for (int i = 0; i < 600; ++i) outbox.Commit(outbox.Insert(absl::StrCat("$b", i), "B"));
  outbox.Commit(outbox.Insert("$a2", "A"));
  stream.RefuseSubject("prefix.A");
  EXPECT_FALSE(relay.PublishPending().ok());
  EXPECT_EQ(stream.published().size(), 600u) << "every message of B went in the one run";
  EXPECT_EQ(outbox.size(), 2u);
  EXPECT_FALSE(relay.PublishPending().ok());
  for (const auto& p : stream.published()) EXPECT_EQ(p.subject, "prefix.B");
}

TEST(OutboxRelayTest, AFailedDeleteResendsWhichTheStreamDropsAsADuplicate) {
  FakeOutbox outbox;
  stream::testing::FakePublisher stream;
  OutboxRelay relay(outbox, stream, "prefix");
  outbox.Commit(outbox.Insert("$1"));
  outbox.FailDeletes(1);
  EXPECT_FALSE(relay.PublishPending().ok());
  EXPECT_EQ(outbox.size(), 1u);
  ASSERT_TRUE(relay.PublishPending().ok());
  EXPECT_EQ(Ids(stream), std::vector<std::string>({"$1"}));  // once, not twice
  EXPECT_EQ(outbox.size(), 0u);
}

TEST(OutboxRelayTest, ConcurrentRunsPublishEveryCommittedMessageExactlyOnce) {
  FakeOutbox outbox;
  stream::testing::FakePublisher stream;
  OutboxRelay relay(outbox, stream, "prefix");
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        int64_t pos = outbox.Insert("$" + std::to_string(t) + "_" + std::to_string(i));
        outbox.Commit(pos);
        ASSERT_TRUE(relay.PublishPending().ok());
      }
    });
  }
  for (std::thread& w : writers) w.join();
  std::vector<std::string> ids = Ids(stream);
  EXPECT_EQ(ids.size(), 400u);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
  EXPECT_EQ(outbox.size(), 0u);
}

// A commit wakes the relay thread and returns: a send never waits for the stream, even one that
// hangs; the thread then publishes it.
TEST(OutboxRelayTest, AWakeReturnsAtOnceAndTheRelayThreadPublishes) {
  FakeOutbox outbox;
  stream::testing::FakePublisher stream;
  absl::Notification publishing, release;
  stream.OnPublish([&] {
    if (!publishing.HasBeenNotified()) publishing.Notify();
    release.WaitForNotification();
  });
  OutboxRelay relay(outbox, stream, "prefix");
  relay.Start(absl::Seconds(30));
  outbox.Commit(outbox.Insert("$1"));
  relay.Wake();
  publishing.WaitForNotification();  // the thread is now stuck in the hanging publish of $1
  outbox.Commit(outbox.Insert("$2"));
  relay.Wake();  // this returns all the same, and $2 goes in the next run, not after 30 s
  EXPECT_TRUE(Ids(stream).empty());
  release.Notify();
  for (int i = 0; i < 500 && outbox.size() > 0; ++i) absl::SleepFor(absl::Milliseconds(2));
  EXPECT_EQ(Ids(stream), std::vector<std::string>({"$1", "$2"}));
}

// While the stream refuses, commits go on and pile up in the outbox (its depth is reported); once
// it is back, every message goes out once, in order, without anyone waking the relay again.
TEST(OutboxRelayTest, AnOutageOnlyDelaysDeliveryAndEverythingGoesOnceItEnds) {
  FakeOutbox outbox;
  stream::testing::FakePublisher stream;
  stream.FailNext(1000000);
  absl::Mutex mu;
  int64_t depth = -1;
  OutboxRelay relay(outbox, stream, "prefix");
  relay.Start(absl::Milliseconds(20), [&](const OutboxDepth& d) {
    absl::MutexLock lock(&mu);
    depth = d.messages;
  });
  for (int i = 0; i < 20; ++i) {
    outbox.Commit(outbox.Insert("$" + std::to_string(i)));
    relay.Wake();
  }
  auto depth_now = [&] {
    absl::MutexLock lock(&mu);
    return depth;
  };
  for (int i = 0; i < 1000 && depth_now() != 20; ++i) absl::SleepFor(absl::Milliseconds(2));
  EXPECT_EQ(depth_now(), 20);
  EXPECT_TRUE(Ids(stream).empty());
  stream.FailNext(0);
  for (int i = 0; i < 500 && outbox.size() > 0; ++i) absl::SleepFor(absl::Milliseconds(2));
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) expected.push_back("$" + std::to_string(i));
  EXPECT_EQ(Ids(stream), expected);
}

}  // namespace
}  // namespace periscope::roomserver
