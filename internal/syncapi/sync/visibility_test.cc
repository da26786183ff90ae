// History visibility, both ways for each setting: what a user must not see stays hidden, and what
// they may see is shown. Rooms are built in an in-memory store in stream order.

#include "internal/syncapi/sync/visibility.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "internal/syncapi/testing/fake_sync_store.h"

namespace periscope::syncapi {
namespace {

constexpr char kRoom[] = "!r:test";
constexpr char kAlice[] = "@alice:test";
constexpr char kBob[] = "@bob:test";

class VisibilityTest : public ::testing::Test {
 protected:
  // Appends an event; returns its id.
  std::string Add(const std::string& type, const std::string& sender, const std::string& content,
                  std::optional<std::string> state_key = std::nullopt,
                  const std::string& membership = "") {
    SyncEvent e;
    e.event_id = "$" + std::to_string(++n_);
    e.room_id = kRoom;
    e.type = type;
    e.sender = sender;
    e.state_key = state_key;
    e.membership = membership;
    e.event_json = R"({"type":")" + type + R"(","content":)" + content + "}";
    EXPECT_TRUE(store_.ApplyEvent(e, OwnStateUpdate(e), 0).ok());
    return e.event_id;
  }
  std::string Message(const std::string& sender = kAlice) {
    return Add("m.room.message", sender, R"({"body":"x"})");
  }
  std::string Visibility(const std::string& v) {
    return Add("m.room.history_visibility", kAlice, R"({"history_visibility":")" + v + R"("})", "");
  }
  std::string Member(const std::string& user, const std::string& membership) {
    return Add("m.room.member", user, R"({"membership":")" + membership + R"("})", user,
               membership);
  }
  // The ids of every event `user` may see ("" for a non-member looking in).
  std::vector<std::string> Seen(const std::string& user) {
    absl::StatusOr<RoomVisibility> v = user.empty() ? RoomVisibility::ForNonMember(store_, kRoom)
                                                    : RoomVisibility::ForUser(store_, kRoom, user);
    EXPECT_TRUE(v.ok());
    auto all = store_.EventsPage(kRoom, 0, 0, false, 1000);
    std::vector<std::string> out;
    for (const SyncEvent& e : v->Filter(*all)) out.push_back(e.event_id);
    return out;
  }
  bool Sees(const std::string& user, const std::string& id) {
    std::vector<std::string> seen = Seen(user);
    return std::find(seen.begin(), seen.end(), id) != seen.end();
  }

  testing::FakeSyncStore store_;
  int n_ = 0;
};

TEST_F(VisibilityTest, JoinedHidesWhatCameBeforeTheJoinAndAfterTheLeave) {
  Member(kAlice, "join");
  Visibility("joined");
  std::string before = Message();
  std::string invite = Member(kBob, "invite");
  std::string while_invited = Message();
  std::string join = Member(kBob, "join");
  std::string during = Message();
  std::string leave = Member(kBob, "leave");
  std::string after = Message();
  EXPECT_FALSE(Sees(kBob, before));
  EXPECT_FALSE(Sees(kBob, while_invited));
  EXPECT_FALSE(Sees(kBob, after));
  EXPECT_TRUE(Sees(kBob, invite));  // own membership events, always
  EXPECT_TRUE(Sees(kBob, join));
  EXPECT_TRUE(Sees(kBob, during));
  EXPECT_TRUE(Sees(kBob, leave));
  EXPECT_TRUE(Sees(kAlice, before));
  EXPECT_FALSE(Sees("", during));  // not for peeking
}

TEST_F(VisibilityTest, InvitedShowsFromTheInviteOn) {
  Member(kAlice, "join");
  Visibility("invited");
  std::string before = Message();
  Member(kBob, "invite");
  std::string while_invited = Message();
  Member(kBob, "join");
  std::string during = Message();
  EXPECT_FALSE(Sees(kBob, before));
  EXPECT_TRUE(Sees(kBob, while_invited));
  EXPECT_TRUE(Sees(kBob, during));
}

TEST_F(VisibilityTest, SharedShowsEarlierHistoryOnlyToThoseWhoJoinLater) {
  Member(kAlice, "join");
  Visibility("shared");
  std::string before = Message();
  Member(kBob, "invite");
  // Bob rejects the invite: he never joined, so shared history stays hidden from him.
  std::string reject = Member(kBob, "leave");
  EXPECT_FALSE(Sees(kBob, before));
  EXPECT_TRUE(Sees(kBob, reject));
  // Carol joins later: she sees what came before.
  std::string carol = "@carol:test";
  Member(carol, "join");
  EXPECT_TRUE(Sees(carol, before));
  // A ban without a join shows the ban and nothing else.
  std::string dave = "@dave:test";
  std::string ban = Member(dave, "ban");
  EXPECT_EQ(Seen(dave), std::vector<std::string>({ban}));
  EXPECT_FALSE(Sees("", before));
}

TEST_F(VisibilityTest, WorldReadableIsForEveryoneButOnlyWhileItIsSet) {
  Member(kAlice, "join");
  Visibility("joined");
  std::string hidden = Message();
  std::string opened = Visibility("world_readable");
  std::string open = Message();
  std::string closed = Visibility("joined");
  std::string after = Message();
  for (const std::string& reader : {std::string(""), std::string(kBob)}) {
    EXPECT_FALSE(Sees(reader, hidden)) << reader;
    EXPECT_TRUE(Sees(reader, opened)) << reader;  // the more open of before and after
    EXPECT_TRUE(Sees(reader, open)) << reader;
    EXPECT_TRUE(Sees(reader, closed)) << reader;  // it is the setting that ends it
    EXPECT_FALSE(Sees(reader, after)) << reader;
  }
}

TEST_F(VisibilityTest, ARoomWithoutTheSettingIsShared) {
  Member(kAlice, "join");
  std::string before = Message();
  EXPECT_FALSE(Sees(kBob, before));
  Member(kBob, "join");
  EXPECT_TRUE(Sees(kBob, before));
}

TEST_F(VisibilityTest, AnUnknownSettingIsTheMostPrivate) {
  Member(kAlice, "join");
  Visibility("everyone!");
  std::string before = Message();
  Member(kBob, "join");
  EXPECT_FALSE(Sees(kBob, before));
}

}  // namespace
}  // namespace periscope::syncapi
