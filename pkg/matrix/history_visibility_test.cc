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
    bool joins_later;
    bool visible;
  };
  const Case cases[] = {
      {HV::kWorldReadable, M::kNone, false, true},
      {HV::kShared, M::kNone, true, true},     // joined later: sees earlier history
      {HV::kShared, M::kNone, false, false},   // never joined after it: no
      {HV::kShared, M::kLeave, false, false},  // left before it: no
      {HV::kShared, M::kJoin, false, true},    // was in at the time
      {HV::kInvited, M::kInvite, true, true},
      {HV::kInvited, M::kNone, true, false},
      {HV::kJoined, M::kInvite, true, false},
      {HV::kJoined, M::kJoin, false, true},
      {HV::kJoined, M::kNone, true, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(UserMaySeeEvent(c.vis, c.then, c.joins_later), c.visible)
        << static_cast<int>(c.vis) << " " << static_cast<int>(c.then) << " " << c.joins_later;
  }
  EXPECT_TRUE(NonMemberMaySeeEvent(HV::kWorldReadable));
  EXPECT_FALSE(NonMemberMaySeeEvent(HV::kShared));
}

}  // namespace
}  // namespace periscope::matrix
