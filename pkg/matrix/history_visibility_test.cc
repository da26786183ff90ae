#include "pkg/matrix/history_visibility.h"

#include "gtest/gtest.h"

namespace periscope::matrix {
namespace {

using HV = HistoryVisibility;
using M = MembershipState;

TEST(HistoryVisibilityTest, Parse) {
  EXPECT_EQ(ParseHistoryVisibility("world_readable"), HV::kWorldReadable);
  EXPECT_EQ(ParseHistoryVisibility("shared"), HV::kShared);
  EXPECT_EQ(ParseHistoryVisibility(""), HV::kShared);
  EXPECT_EQ(ParseHistoryVisibility("invited"), HV::kInvited);
  EXPECT_EQ(ParseHistoryVisibility("joined"), HV::kJoined);
  EXPECT_EQ(ParseHistoryVisibility("World_Readable"), HV::kJoined);  // unknown: most private
}

TEST(HistoryVisibilityTest, Table) {
  struct Case {
    HV vis;
    M then;
    M now;
    bool visible;
  };
  const Case cases[] = {
      {HV::kWorldReadable, M::kNone, M::kNone, true},
      {HV::kShared, M::kNone, M::kJoin, true},    // joined later: sees earlier history
      {HV::kShared, M::kNone, M::kLeave, false},  // left, was never in: no
      {HV::kShared, M::kJoin, M::kLeave, true},   // was in at the time
      {HV::kInvited, M::kInvite, M::kJoin, true},
      {HV::kInvited, M::kNone, M::kJoin, false},
      {HV::kJoined, M::kInvite, M::kJoin, false},
      {HV::kJoined, M::kJoin, M::kBan, true},
      {HV::kJoined, M::kNone, M::kJoin, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(UserMaySeeEvent(c.vis, c.then, c.now), c.visible)
        << static_cast<int>(c.vis) << " " << static_cast<int>(c.then) << " "
        << static_cast<int>(c.now);
  }
  EXPECT_TRUE(NonMemberMaySeeEvent(HV::kWorldReadable));
  EXPECT_FALSE(NonMemberMaySeeEvent(HV::kShared));
}

}  // namespace
}  // namespace periscope::matrix
