// The per-room write queue with a runner the test controls: writes that queue behind a busy room
// go as one batch in arrival order, each with its own result; other rooms do not wait.

#include "internal/roomserver/storage/room_write_queue.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace periscope::roomserver {
namespace {

using Queue = RoomWriteQueue<int>;

// Records each batch's bodies and answers odd ones with a refusal (each by itself). The first
// batch holds its room until released, so that later writes queue behind it.
class RecordingRunner {
 public:
  Queue::RunBatch runner() {
    return [this](absl::string_view, absl::Span<Queue::Write* const> batch) {
      std::vector<int> bodies;
      for (Queue::Write* w : batch) {
        bodies.push_back(*w->body);
        w->result = *w->body % 2 == 1
                        ? absl::InvalidArgumentError(absl::StrCat("refused ", *w->body))
                        : absl::OkStatus();
      }
      bool first;
      {
        absl::MutexLock lock(&mu_);
        first = batches_.empty();
        batches_.push_back(bodies);
      }
      if (first) release_first_.WaitForNotification();
    };
  }
  void WaitForFirstBatch() {
    absl::MutexLock lock(&mu_);
    auto started = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !batches_.empty(); };
    mu_.AwaitWithTimeout(absl::Condition(&started), absl::Seconds(10));
  }
  void ReleaseFirstBatch() { release_first_.Notify(); }
  std::vector<std::vector<int>> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<int>> batches_ ABSL_GUARDED_BY(mu_);
  absl::Notification release_first_;
};

// Starts a write of each body to `room`, one after another, each once the one before is queued.
// The writes point into `bodies` and `results` until they are joined.
std::vector<std::thread> QueueBehind(Queue& queue, const Queue::RunBatch& runner,
                                     absl::string_view room, const std::vector<int>& bodies,
                                     std::vector<absl::Status>& results) {
  std::vector<std::thread> threads;
  results.resize(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    threads.emplace_back([&, i, room] { results[i] = queue.Submit(room, bodies[i], runner); });
    for (absl::Time deadline = absl::Now() + absl::Seconds(10);
         queue.Waiting(room) < i + 1 && absl::Now() < deadline;) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    EXPECT_EQ(queue.Waiting(room), i + 1);
  }
  return threads;
}

TEST(RoomWriteQueueTest, WritesBehindABusyRoomGoAsOneBatchInOrderEachWithItsOwnResult) {
  Queue queue(64);
  RecordingRunner recording;
  Queue::RunBatch runner = recording.runner();
  const int zero = 0;
  absl::Status first_result;
  std::thread leader([&] { first_result = queue.Submit("!r", zero, runner); });
  recording.WaitForFirstBatch();
  const std::vector<int> bodies = {1, 2, 3, 4, 5};
  std::vector<absl::Status> results;
  std::vector<std::thread> followers = QueueBehind(queue, runner, "!r", bodies, results);
  // Another room does not wait for this one.
  const int other = 8;
  EXPECT_TRUE(queue.Submit("!other", other, runner).ok());
  recording.ReleaseFirstBatch();
  leader.join();
  for (std::thread& t : followers) t.join();
  EXPECT_TRUE(first_result.ok());
  for (size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_EQ(results[i].ok(), bodies[i] % 2 == 0) << bodies[i] << ": " << results[i];
  }
  EXPECT_EQ(recording.batches(), (std::vector<std::vector<int>>{{0}, {8}, {1, 2, 3, 4, 5}}));
  EXPECT_EQ(queue.Waiting("!r"), 0u);
}

TEST(RoomWriteQueueTest, ABatchTakesAtMostItsLimitAndTheRestFollowInOrder) {
  Queue queue(2);
  RecordingRunner recording;
  Queue::RunBatch runner = recording.runner();
  const int zero = 0;
  std::thread leader([&] { (void)queue.Submit("!r", zero, runner); });
  recording.WaitForFirstBatch();
  const std::vector<int> bodies = {1, 2, 3, 4, 5};  // outlives the writes that point into it
  std::vector<absl::Status> results;
  std::vector<std::thread> followers = QueueBehind(queue, runner, "!r", bodies, results);
  recording.ReleaseFirstBatch();
  leader.join();
  for (std::thread& t : followers) t.join();
  EXPECT_EQ(recording.batches(), (std::vector<std::vector<int>>{{0}, {1, 2}, {3, 4}, {5}}));
}

}  // namespace
}  // namespace periscope::roomserver
