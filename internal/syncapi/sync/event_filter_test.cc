#include "internal/syncapi/sync/event_filter.h"

#include "gtest/gtest.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {
namespace {

TEST(EventFilterTest, TypePatterns) {
  EXPECT_TRUE(MatchesTypePattern("m.room.message", "m.room.message"));
  EXPECT_TRUE(MatchesTypePattern("m.room.*", "m.room.message"));
  EXPECT_TRUE(MatchesTypePattern("*", "anything"));
  EXPECT_TRUE(MatchesTypePattern("m.*.member", "m.room.member"));
  EXPECT_FALSE(MatchesTypePattern("m.room.*", "m.call.invite"));
  EXPECT_FALSE(MatchesTypePattern("m.room.message", "m.room.messages"));
  EXPECT_TRUE(MatchesTypePattern("m.room.message*", "m.room.messages"));
}

TEST(EventFilterTest, AllowsFollowsTheLists) {
  EventFilter filter =
      *ParseEventFilter(matrix::Json::parse(R"({"types":["m.room.*"],"not_types":["m.room.member"],
          "not_senders":["@spam:x"]})"),
                        "f");
  EXPECT_TRUE(filter.Allows("m.room.message", "@a:x"));
  EXPECT_FALSE(filter.Allows("m.room.member", "@a:x"));
  EXPECT_FALSE(filter.Allows("m.call.invite", "@a:x"));
  EXPECT_FALSE(filter.Allows("m.room.message", "@spam:x"));
  EventFilter none = *ParseEventFilter(matrix::Json::parse(R"({"types":[]})"), "f");
  EXPECT_FALSE(none.Allows("m.room.message", "@a:x")) << "an empty types list allows nothing";
  EventFilter senders = *ParseEventFilter(matrix::Json::parse(R"({"senders":["@a:x"]})"), "f");
  EXPECT_TRUE(senders.Allows("m.room.message", "@a:x"));
  EXPECT_FALSE(senders.Allows("m.room.message", "@b:x"));
  EXPECT_TRUE(ParseEventFilter(matrix::Json(), "f")->Allows("x", "@a:x"));
}

TEST(EventFilterTest, BadShapesAreInvalidParam) {
  for (const char* text : {R"({"types":"m.room.message"})", R"({"types":[1]})",
                           R"({"not_senders":{}})", R"({"lazy_load_members":"yes"})", "[]"}) {
    absl::StatusOr<EventFilter> filter = ParseEventFilter(matrix::Json::parse(text), "f");
    EXPECT_EQ(MatrixErrcode(filter.status()), "M_INVALID_PARAM") << text;
  }
}

}  // namespace
}  // namespace periscope::syncapi
