#include "internal/gateway/http/cancellation.h"

#include <gtest/gtest.h>

namespace periscope::gateway {
namespace {

TEST(CancellationTest, RegisteredFirstRunsOnCancelOnce) {
  int watched = 0, cancelled = 0;
  Cancellation c([&] { ++watched; });
  c.OnCancel([&] { ++cancelled; });
  EXPECT_EQ(watched, 1);
  EXPECT_EQ(cancelled, 0);
  c.Cancel();
  c.Cancel();
  EXPECT_EQ(cancelled, 1);
  EXPECT_TRUE(c.cancelled());
}

TEST(CancellationTest, CancelledFirstRunsARegistrationAtOnce) {
  int watched = 0, cancelled = 0;
  Cancellation c([&] { ++watched; });
  c.Cancel();
  c.OnCancel([&] { ++cancelled; });
  EXPECT_EQ(cancelled, 1);
  EXPECT_EQ(watched, 0);  // nothing left to watch for
}

TEST(CancellationTest, ALaterRegistrationReplacesAndWatchingStartsOnce) {
  int watched = 0, first = 0, second = 0;
  Cancellation c([&] { ++watched; });
  c.OnCancel([&] { ++first; });
  c.OnCancel([&] { ++second; });
  c.Cancel();
  EXPECT_EQ(watched, 1);
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
}

TEST(CancellationTest, NobodyRegisteredCostsNothing) {
  int watched = 0;
  {
    Cancellation c([&] { ++watched; });
    c.Cancel();
  }
  EXPECT_EQ(watched, 0);
}

}  // namespace
}  // namespace periscope::gateway
