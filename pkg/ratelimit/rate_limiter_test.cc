// The token bucket lets a burst through, refuses the next request with the wait until a token
// is back, refills with time (on the injected clock) and keeps keys apart.

#include "pkg/ratelimit/rate_limiter.h"

#include "gtest/gtest.h"

namespace periscope::ratelimit {
namespace {

TEST(RateLimiterTest, BurstThenWaitThenRefill) {
  SimulatedClock clock(absl::FromUnixSeconds(1000));
  RateLimiter limiter(clock, /*per_second=*/2, /*burst=*/3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("a"), absl::ZeroDuration()) << i;
  EXPECT_EQ(limiter.Take("a"), absl::Milliseconds(500)) << "one token every 500 ms";
  EXPECT_EQ(limiter.Take("b"), absl::ZeroDuration()) << "another key has its own bucket";
  clock.Advance(absl::Milliseconds(250));
  EXPECT_EQ(limiter.Take("a"), absl::Milliseconds(250));
  clock.Advance(absl::Milliseconds(250));
  EXPECT_EQ(limiter.Take("a"), absl::ZeroDuration());
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take("a"), absl::ZeroDuration()) << i;
  EXPECT_GT(limiter.Take("a"), absl::ZeroDuration()) << "never more than the burst";
}

}  // namespace
}  // namespace periscope::ratelimit
