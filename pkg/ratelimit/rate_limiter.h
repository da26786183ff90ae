#pragma once
// A token bucket per key (e.g. per device): `burst` requests at once, refilled at `per_second`.
// Answers how long the caller must wait when the bucket is empty, for the Matrix error's
// retry_after_ms. Time comes from an injected clock; idle buckets are dropped as they refill.

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pkg/clock/clock.h"

namespace periscope::ratelimit {

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, double per_second, int burst)
      : clock_(clock), per_second_(per_second), burst_(burst) {}

  // Zero if `key` may go ahead now (and a token is taken); otherwise how long until it may.
  absl::Duration Take(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  const Clock& clock_;
  const double per_second_;
  const int burst_;
  absl::Mutex mu_;
  std::map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace periscope::ratelimit
