#pragma once
// Retires the peeks nobody is looking through any more: a peek whose expiry passed without a
// re-POST of /peek or a /sync of its device. syncapi is the one that knows who syncs, so it
// decides, and asks the roomserver to retire the peek (PerformUnpeek, reason expired) so that
// the roomserver's list of live local peekers stays true; the retire_peek that follows in the
// stream ends it here, in order with the room's events. A thread checks the injected clock.

#include <array>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "internal/syncapi/peeks/peek_metrics.h"
#include "internal/syncapi/storage/sync_store.h"
#include "pkg/clock/clock.h"

namespace periscope::syncapi {

// Where expired peeks are reported (the roomserver, over gRPC, in production).
class PeekRetirer {
 public:
  virtual ~PeekRetirer() = default;
  // FAILED_PRECONDITION if the roomserver has no such peek.
  virtual absl::Status RetireExpired(const std::string& room_id, const std::string& user_id,
                                     const std::string& device_id) = 0;
};

class PeekExpirer {
 public:
  PeekExpirer(SyncStore& store, PeekRetirer& retirer, PeekMetrics& metrics, const Clock& clock,
              absl::Duration check_every);
  ~PeekExpirer();

  // One pass: retires every peek that lapsed by now and refreshes the active-peeks gauge. Returns
  // how many were retired.
  int RunOnce();

 private:
  SyncStore& store_;
  PeekRetirer& retirer_;
  PeekMetrics& metrics_;
  const Clock& clock_;
  const absl::Duration check_every_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace periscope::syncapi
