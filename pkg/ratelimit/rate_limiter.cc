#include "pkg/ratelimit/rate_limiter.h"

#include <algorithm>

namespace periscope::ratelimit {

absl::Duration RateLimiter::Take(const std::string& key) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  // Now and then, forget buckets that have refilled completely: they hold no information.
  if (now - last_sweep_ > absl::Minutes(1)) {
    last_sweep_ = now;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const double refilled =
          it->second.tokens + absl::ToDoubleSeconds(now - it->second.updated) * per_second_;
      it = refilled >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{static_cast<double>(burst_), now});
  Bucket& bucket = it->second;
  bucket.tokens = std::min<double>(
      burst_, bucket.tokens + absl::ToDoubleSeconds(now - bucket.updated) * per_second_);
  bucket.updated = now;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1 - bucket.tokens) / per_second_);
}

}  // namespace periscope::ratelimit
