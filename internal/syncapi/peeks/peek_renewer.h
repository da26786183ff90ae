#pragma once
// Each /sync of a device renews its live peeks (the device is clearly still looking): their expiry
// moves to now + lifetime. To keep that off the database for most syncs, a device is renewed at
// most once per quarter lifetime; a peek therefore never has less than three quarters of its
// lifetime left while its device syncs.

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "internal/syncapi/peeks/peek_metrics.h"
#include "internal/syncapi/storage/sync_store.h"
#include "pkg/clock/clock.h"

namespace periscope::syncapi {

class PeekRenewer {
 public:
  PeekRenewer(SyncStore& store, const Clock& clock, absl::Duration lifetime, PeekMetrics& metrics)
      : store_(store), clock_(clock), lifetime_(lifetime), metrics_(metrics) {}

  // Called for every /sync of the device.
  absl::Status Renew(const std::string& user_id, const std::string& device_id);

 private:
  SyncStore& store_;
  const Clock& clock_;
  const absl::Duration lifetime_;
  PeekMetrics& metrics_;
  absl::Mutex mu_;
  // When each device was last renewed.
  absl::flat_hash_map<std::string, absl::Time> renewed_ ABSL_GUARDED_BY(mu_);
  absl::Time last_prune_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace periscope::syncapi
