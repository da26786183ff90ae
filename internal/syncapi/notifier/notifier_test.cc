// The notifier wakes the right waiters once, times out on the injected clock, never loses a
// wake-up that came before the wait, answers everything at shutdown, and runs woken callbacks on
// several workers at once.

#include "internal/syncapi/notifier/notifier.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace periscope::syncapi {
namespace {

using Reason = Notifier::Reason;

struct Outcome {
  absl::Notification done;
  std::atomic<int> calls{0};
  Reason reason = Reason::kShutdown;
  Notifier::Callback Callback() {
    return [this](Reason r) {
      reason = r;
      if (calls.fetch_add(1) == 0) done.Notify();
    };
  }
};

TEST(NotifierTest, WakesOnlyTheNamedUsers) {
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  Notifier notifier(clock);
  Outcome alice, bob;
  notifier.Wait("@alice:x", 5, clock.Now() + absl::Seconds(30), alice.Callback());
  notifier.Wait("@bob:x", 5, clock.Now() + absl::Seconds(30), bob.Callback());
  EXPECT_EQ(notifier.waiting(), 2u);
  notifier.Wake({"@alice:x"}, 6);
  ASSERT_TRUE(alice.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(alice.reason, Reason::kWoken);
  EXPECT_FALSE(bob.done.HasBeenNotified());
  EXPECT_EQ(notifier.waiting(), 1u);
  notifier.Wake({"@alice:x"}, 7);  // alice's waiter already fired: nothing happens twice
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(alice.calls.load(), 1);
}

TEST(NotifierTest, TimesOutOnTheInjectedClock) {
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  Notifier notifier(clock);
  Outcome waiter;
  notifier.Wait("@alice:x", 5, clock.Now() + absl::Seconds(30), waiter.Callback());
  absl::SleepFor(absl::Milliseconds(250));
  EXPECT_FALSE(waiter.done.HasBeenNotified()) << "real time passing does not time it out";
  clock.Advance(absl::Seconds(31));
  ASSERT_TRUE(waiter.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(waiter.reason, Reason::kTimedOut);
}

TEST(NotifierTest, AWakeBeforeTheWaitIsNotLost) {
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  Notifier notifier(clock);
  notifier.Wake({"@someone:x"}, 9);
  Outcome waiter;
  notifier.Wait("@alice:x", 8, clock.Now() + absl::Seconds(30), waiter.Callback());
  ASSERT_TRUE(waiter.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(waiter.reason, Reason::kWoken) << "position 9 is newer than the 8 it had seen";
}

TEST(NotifierTest, ShutdownAnswersEveryoneAndLaterWaitsAtOnce) {
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  Notifier notifier(clock);
  Outcome before, after;
  notifier.Wait("@alice:x", 0, clock.Now() + absl::Hours(1), before.Callback());
  notifier.Shutdown();
  ASSERT_TRUE(before.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(before.reason, Reason::kShutdown);
  notifier.Wait("@alice:x", 0, clock.Now() + absl::Hours(1), after.Callback());
  EXPECT_TRUE(after.done.HasBeenNotified());
  EXPECT_EQ(after.reason, Reason::kShutdown);
}

TEST(NotifierTest, CancelEndsAParkedWaitAndOneThatRacesAhead) {
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  Notifier notifier(clock);
  Outcome parked;
  notifier.Wait("@alice:x", 5, clock.Now() + absl::Seconds(30), parked.Callback(), 7);
  EXPECT_EQ(notifier.waiting(), 1u);
  notifier.Cancel(7);
  ASSERT_TRUE(parked.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(parked.reason, Reason::kCancelled);
  EXPECT_EQ(notifier.waiting(), 0u) << "a cancelled wait holds nothing";

  // The cancel arrives before the registration: the registration is cancelled at once.
  Outcome late;
  notifier.Cancel(8);
  notifier.Wait("@alice:x", 5, clock.Now() + absl::Seconds(30), late.Callback(), 8);
  ASSERT_TRUE(late.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(late.reason, Reason::kCancelled);

  // Once forgotten, the key is free again; other keys are never affected.
  notifier.Forget(8);
  Outcome again, other;
  notifier.Wait("@alice:x", 5, clock.Now() + absl::Seconds(30), again.Callback(), 8);
  notifier.Wait("@bob:x", 5, clock.Now() + absl::Seconds(30), other.Callback(), 9);
  EXPECT_EQ(notifier.waiting(), 2u);
  notifier.Cancel(9);
  ASSERT_TRUE(other.done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_FALSE(again.done.HasBeenNotified());
}

TEST(NotifierTest, WokenCallbacksRunInParallel) {
  // Two callbacks that each wait for the other finish only if they run on different workers.
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  Notifier notifier(clock, /*workers=*/2);
  absl::Notification first_started, second_started, both_done_a, both_done_b;
  notifier.Wait("@a:x", 1, clock.Now() + absl::Seconds(30), [&](Reason) {
    first_started.Notify();
    if (second_started.WaitForNotificationWithTimeout(absl::Seconds(5))) both_done_a.Notify();
  });
  notifier.Wait("@b:x", 1, clock.Now() + absl::Seconds(30), [&](Reason) {
    second_started.Notify();
    if (first_started.WaitForNotificationWithTimeout(absl::Seconds(5))) both_done_b.Notify();
  });
  notifier.Wake({"@a:x", "@b:x"}, 2);
  EXPECT_TRUE(both_done_a.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(both_done_b.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

}  // namespace
}  // namespace periscope::syncapi

namespace periscope::syncapi {
namespace {

TEST(NotifierTest, PostRunsOnAWorkerAndAtOnceAfterShutdown) {
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  Notifier notifier(clock);
  absl::Notification ran;
  std::thread::id worker;
  notifier.Post([&] {
    worker = std::this_thread::get_id();
    ran.Notify();
  });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_NE(worker, std::this_thread::get_id());
  notifier.Shutdown();
  bool inline_ran = false;
  notifier.Post([&] { inline_ran = true; });
  EXPECT_TRUE(inline_ran);
}

}  // namespace
}  // namespace periscope::syncapi
