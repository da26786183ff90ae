// SyncRunner never does database work on its caller's thread (in the monolith, a gateway HTTP
// thread): a /sync whose store is stalled returns from Run at once and is answered later from a
// worker.

#include "internal/syncapi/service/sync_wait.h"

#include <future>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "internal/syncapi/testing/fake_sync_store.h"

namespace periscope::syncapi {
namespace {

class SyncRunnerTest : public ::testing::Test {
 protected:
  testing::FakeSyncStore store_;
  SimulatedClock clock_;
  Notifier notifier_{clock_};
  SyncMetrics metrics_{nullptr};
  PeekMetrics peek_metrics_{nullptr};
  PeekRenewer renewer_{store_, clock_, absl::Hours(1), peek_metrics_};
  SyncBuilder builder_{store_};
  SyncRunner runner_{builder_, notifier_, metrics_, renewer_, clock_};
};

TEST_F(SyncRunnerTest, AStalledStoreNeverHoldsTheCallersThread) {
  for (const char* since : {"", "s0"}) {  // a full build and an incremental one
    absl::Notification unstall;
    std::thread::id read_on;
    store_.OnMaxPosition([&] {
      read_on = std::this_thread::get_id();
      unstall.WaitForNotificationWithTimeout(absl::Seconds(2));
    });
    v1::SyncRequest request;
    request.set_user_id("@a:t");
    request.set_device_id("D");
    request.set_since(since);
    std::promise<absl::StatusOr<v1::SyncResponse>> answer;
    runner_.Run(request, [&](absl::StatusOr<v1::SyncResponse> r) { answer.set_value(r); });
    // Run returned although the store is stalled: the work is on a worker.
    unstall.Notify();
    absl::StatusOr<v1::SyncResponse> r = answer.get_future().get();
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_NE(read_on, std::this_thread::get_id()) << "since=" << since;
    store_.OnMaxPosition(nullptr);
  }
  notifier_.Shutdown();
}

}  // namespace
}  // namespace periscope::syncapi
