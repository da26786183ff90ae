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

// Odd bodies are refused, each by itself.
absl::Status Outcome(int body) {
  return body % 2 == 1 ? absl::InvalidArgumentError(absl::StrCat("refused ", body))
                       : absl::OkStatus();
}

void WaitForWaiting(Queue& queue, absl::string_view room, size_t n) {
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       queue.Waiting(room) < n && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(queue.Waiting(room), n);
}

TEST(RoomWriteQueueTest, WritesBehindABusyRoomGoAsOneBatchInOrderEachWithItsOwnResult) {
  Queue queue(64);
  absl::Mutex mu;
  std::vector<std::vector<int>> batches;
  absl::Notification release_first;
  Queue::RunBatch runner = [&](absl::string_view, absl::Span<Queue::Write* const> batch) {
    std::vector<int> bodies;
    for (Queue::Write* w : batch) {
      bodies.push_back(*w->body);
      w->result = Outcome(*w->body);
    }
    bool first;
    {
      absl::MutexLock lock(&mu);
      first = batches.empty();
      batches.push_back(bodies);
    }
    if (first) release_first.WaitForNotification();
  };
  const int zero = 0;
  absl::Status first_result;
  std::thread leader([&] { first_result = queue.Submit("!r", zero, runner); });
  for (absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(1));
    absl::MutexLock lock(&mu);
    if (!batches.empty()) break;
  }
  // While the first batch runs, five more writes arrive one after another.
  std::vector<int> bodies = {1, 2, 3, 4, 5};
  std::vector<absl::Status> results(bodies.size());
  std::vector<std::thread> followers;
  for (size_t i = 0; i < bodies.size(); ++i) {
    followers.emplace_back([&, i] { results[i] = queue.Submit("!r", bodies[i], runner); });
    WaitForWaiting(queue, "!r", i + 1);
  }
  // Another room does not wait for this one.
  const int other = 8;
  EXPECT_TRUE(queue.Submit("!other", other, runner).ok());
  release_first.Notify();
  leader.join();
  for (std::thread& t : followers) t.join();
  EXPECT_TRUE(first_result.ok());
  for (size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_EQ(results[i].ok(), bodies[i] % 2 == 0) << bodies[i] << ": " << results[i];
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(batches, (std::vector<std::vector<int>>{{0}, {8}, {1, 2, 3, 4, 5}}));
  EXPECT_EQ(queue.Waiting("!r"), 0u);
}

TEST(RoomWriteQueueTest, ABatchTakesAtMostItsLimitAndTheRestFollowInOrder) {
  Queue queue(2);
  absl::Mutex mu;
  std::vector<std::vector<int>> batches;
  absl::Notification release_first;
  Queue::RunBatch runner = [&](absl::string_view, absl::Span<Queue::Write* const> batch) {
    std::vector<int> bodies;
    for (Queue::Write* w : batch) bodies.push_back(*w->body);
    bool first;
    {
      absl::MutexLock lock(&mu);
      first = batches.empty();
      batches.push_back(bodies);
    }
    if (first) release_first.WaitForNotification();
  };
  const int zero = 0;
  std::thread leader([&] { (void)queue.Submit("!r", zero, runner); });
  for (absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(1));
    absl::MutexLock lock(&mu);
    if (!batches.empty()) break;
  }
  std::vector<int> bodies = {1, 2, 3, 4, 5};
  std::vector<std::thread> followers;
  for (size_t i = 0; i < bodies.size(); ++i) {
    followers.emplace_back([&, i] { (void)queue.Submit("!r", bodies[i], runner); });
    WaitForWaiting(queue, "!r", i + 1);
  }
  release_first.Notify();
  leader.join();
  for (std::thread& t : followers) t.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(batches, (std::vector<std::vector<int>>{{0}, {1, 2}, {3, 4}, {5}}));
}

}  // namespace
}  // namespace periscope::roomserver
