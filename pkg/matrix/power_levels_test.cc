#include "pkg/matrix/power_levels.h"

#include "gtest/gtest.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

TEST(PowerLevelsTest, DefaultsWhenKeysAreAbsent) {
  absl::StatusOr<PowerLevels> levels = ParsePowerLevels(Json::object(), 10);
  ASSERT_TRUE(levels.ok());
  EXPECT_EQ(levels->ban, 50);
  EXPECT_EQ(levels->kick, 50);
  EXPECT_EQ(levels->redact, 50);
  EXPECT_EQ(levels->invite, 0);
  EXPECT_EQ(levels->UserLevel("@a:b"), 0);
  EXPECT_EQ(levels->EventLevel("m.room.name", true), 50);
  EXPECT_EQ(levels->EventLevel("m.room.message", false), 0);
}

TEST(PowerLevelsTest, ExplicitValues) {
  Json content = Json::parse(R"({"users":{"@a:b":75},"users_default":5,"events":{"m.x":30},
      "state_default":40,"events_default":10,"invite":20})");
  PowerLevels levels = *ParsePowerLevels(content, 10);
  EXPECT_EQ(levels.UserLevel("@a:b"), 75);
  EXPECT_EQ(levels.UserLevel("@c:b"), 5);
  EXPECT_EQ(levels.EventLevel("m.x", false), 30);
  EXPECT_EQ(levels.EventLevel("m.x", true), 30);
  EXPECT_EQ(levels.EventLevel("m.y", true), 40);
  EXPECT_EQ(levels.EventLevel("m.y", false), 10);
  EXPECT_EQ(levels.invite, 20);
}

TEST(PowerLevelsTest, StringsOnlyBeforeVersion10) {
  Json content = Json::parse(R"({"ban":"70","users":{"@a:b":"60"}})");
  EXPECT_EQ(ParsePowerLevels(content, 9)->ban, 70);
  EXPECT_EQ(ParsePowerLevels(content, 9)->UserLevel("@a:b"), 60);
  absl::Status status = ParsePowerLevels(content, 10).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "m.room.power_levels: ban is not an integer");
}

TEST(PowerLevelsTest, RefusesMalformedContent) {
  for (const char* text :
       {R"({"users":{"alice":1}})", R"({"users":[]})", R"({"events":{"x":1.5}})",
        R"({"kick":null})", R"({"notifications":{"room":"x"}})", R"({"ban":"9007199254740993"})"}) {
    EXPECT_FALSE(ParsePowerLevels(Json::parse(text), 9).ok()) << text;
  }
  EXPECT_FALSE(ParsePowerLevels(Json::array(), 10).ok());
}

TEST(PowerLevelsTest, WithoutAnEventTheCreatorHas100) {
  PowerLevels levels = PowerLevelsWithoutEvent("@c:x");
  EXPECT_EQ(levels.UserLevel("@c:x"), 100);
  EXPECT_EQ(levels.UserLevel("@d:x"), 0);
  EXPECT_EQ(levels.EventLevel("m.room.name", true), 0);
}

}  // namespace
}  // namespace periscope::matrix
