#include "internal/app/dependency_health.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace periscope::app {
namespace {

TEST(DependencyHealthTest, ReportsChangesOnlyAndFailsWhileAnyCheckFails) {
  bool database_up = true, nats_up = true;
  std::vector<bool> reports;
  DependencyHealth health(
      {[&] { return database_up ? absl::OkStatus() : absl::UnavailableError("db"); },
       [&] { return nats_up ? absl::OkStatus() : absl::UnavailableError("nats"); }},
      [&](bool serving) { reports.push_back(serving); }, absl::ZeroDuration());
  EXPECT_TRUE(health.CheckOnce());
  EXPECT_TRUE(health.CheckOnce());  // no change, no report
  database_up = false;
  EXPECT_FALSE(health.CheckOnce());
  nats_up = false;
  EXPECT_FALSE(health.CheckOnce());
  database_up = true;
  EXPECT_FALSE(health.CheckOnce());  // NATS still down
  nats_up = true;
  EXPECT_TRUE(health.CheckOnce());
  EXPECT_EQ(reports, (std::vector<bool>{true, false, true}));
}

TEST(DependencyHealthTest, ChecksOnItsOwnThreadFromTheStart) {
  std::atomic<int> checks{0};
  std::atomic<int> reported{-1};
  {
    DependencyHealth health(
        {[&] {
          ++checks;
          return absl::OkStatus();
        }},
        [&](bool serving) { reported = serving; }, absl::Milliseconds(5));
    for (int i = 0; i < 200 && checks.load() < 3; ++i) absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GE(checks.load(), 3);
  EXPECT_EQ(reported.load(), 1);
}

}  // namespace
}  // namespace periscope::app
