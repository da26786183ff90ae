// make_join and send_join with a faked roomserver: what must not happen is a server joining
// someone else's user, a join in a room version the joiner cannot read, a forged or misaddressed
// join reaching the roomserver, or a join the roomserver refused being answered with the state.

#include "internal/federationapi/inbound/joins.h"

#include <map>
#include <set>

#include "gtest/gtest.h"
#include "internal/federationapi/testing/fake_key_fetcher.h"
#include "internal/federationapi/testing/fake_server_key_store.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;

constexpr char kRoom[] = "!r:us.test";

// The roomserver: one room (v10) whose state is $create; templates on request; input recorded.
class FakeRoomserver : public RoomInput, public RoomReads {
 public:
  absl::StatusOr<std::optional<int>> RoomVersion(const std::string& room) override {
    if (room == kRoom) return 10;
    return std::nullopt;
  }
  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest& request) override {
    inputs.push_back(request);
    roomserver::v1::InputRoomEventsResponse response;
    if (refuse) {
      Json e = Json::parse(request.events(0).event_json());
      (*response.mutable_rejected())[*matrix::ComputeEventId(e, 10)] = "banned";
    }
    return response;
  }
  absl::StatusOr<Json> ServerAcl(const std::string&) override { return acl; }
  absl::StatusOr<roomserver::v1::QueryMembershipTemplateResponse> MembershipTemplate(
      const std::string& room, const std::string& user, const std::string& membership) override {
    ++templates;
    if (none_of_ours) return MatrixError(absl::StatusCode::kNotFound, "M_NOT_FOUND", "not here");
    if (refuse_template)
      return MatrixError(absl::StatusCode::kPermissionDenied, "M_FORBIDDEN", "no");
    roomserver::v1::QueryMembershipTemplateResponse response;
    response.set_room_version("10");
    Json content = {{"membership", membership}};
    if (!vouch.empty()) content["join_authorised_via_users_server"] = vouch;
    response.set_event_json(Json{
        {"room_id", room},
        {"type", "m.room.member"},
        {"sender", user},
        {"state_key", user},
        {"content", content},
        {"prev_events", {"$create"}},
        {"auth_events", {"$create"}},
        {"depth", 2},
        {"origin_server_ts", 1}}.dump());
    return response;
  }
  absl::StatusOr<std::vector<StoredPdu>> EventsById(const std::vector<std::string>& ids) override {
    std::vector<StoredPdu> out;
    for (const auto& id : ids) {
      if (id == "$create")
        out.push_back(
            {"$create", kRoom, R"({"type":"m.room.create","state_key":"","auth_events":[]})"});
    }
    return out;
  }
  absl::StatusOr<std::vector<StoredPdu>> StateAtEvent(const std::string&, const std::string&,
                                                      bool) override {
    return EventsById({"$create"});
  }
  absl::StatusOr<std::vector<StoredPdu>> CurrentState(const std::string&) override {
    return EventsById({"$create"});
  }

  Json acl = nullptr;
  bool refuse = false;
  // None of our users is in the room (the roomserver makes no template: 404).
  bool none_of_ours = false;
  // The auth rules refuse the membership now (403 from the template).
  bool refuse_template = false;
  // A restricted room: the user our template names to vouch for the join.
  std::string vouch;
  int templates = 0;
  std::vector<roomserver::v1::InputRoomEventsRequest> inputs;
};

class JoinHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fetcher_.direct["them.test"] =
        *matrix::BuildServerKeys("them.test", theirs_, clock_.Now() + absl::Hours(24));
    keyring_ = std::make_unique<Keyring>("us.test", ours_, keys_, fetcher_,
                                         std::vector<std::string>{}, clock_);
    reads_ = std::make_unique<FederationReads>("us.test", rooms_, rooms_, clock_);
    joins_ = std::make_unique<JoinHandler>("us.test", ours_, rooms_, *keyring_, *reads_);
  }

  // A join of `user` signed by them.test (as its server fills in make_join's template).
  Json SignedJoin(const std::string& user = "@dan:them.test",
                  const std::string& type = "m.room.member", const std::string& membership = "join",
                  Json content = Json::object()) {
    content["membership"] = membership;
    Json event = {{"room_id", kRoom},
                  {"type", type},
                  {"sender", user},
                  {"state_key", user},
                  {"origin", "them.test"},
                  {"content", content},
                  {"prev_events", {"$create"}},
                  {"auth_events", {"$create"}},
                  {"depth", 2},
                  {"origin_server_ts", 1}};
    return *matrix::SignEvent(event, "them.test", theirs_, 10);
  }
  absl::StatusOr<Json> SendJoin(const Json& event, std::string id = "") {
    if (id.empty()) id = *matrix::ComputeEventId(event, 10);
    return joins_->SendJoin("them.test", kRoom, id, event.dump());
  }

  SimulatedClock clock_;
  matrix::SigningKey ours_ = *matrix::GenerateSigningKey("us");
  matrix::SigningKey theirs_ = *matrix::GenerateSigningKey("them");
  testing::FakeServerKeyStore keys_;
  testing::FakeKeyFetcher fetcher_;
  std::unique_ptr<Keyring> keyring_;
  FakeRoomserver rooms_;
  std::unique_ptr<FederationReads> reads_;
  std::unique_ptr<JoinHandler> joins_;
};

TEST_F(JoinHandlerTest, MakeJoinGivesTheRoomserversTemplateToTheUsersOwnServer) {
  absl::StatusOr<Json> made = joins_->MakeJoin("them.test", kRoom, "@dan:them.test", {"9", "10"});
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ((*made)["room_version"], "10");
  EXPECT_EQ((*made)["event"]["state_key"], "@dan:them.test");
}

TEST_F(JoinHandlerTest, MakeJoinRefusesWhatTheServerMayNotAsk) {
  auto make = [&](const std::string& origin, const std::string& room, const std::string& user,
                  std::vector<std::string> versions) {
    return joins_->MakeJoin(origin, room, user, versions).status();
  };
  EXPECT_EQ(MatrixErrcode(make("them.test", kRoom, "@dan:other.test", {"10"})), "M_FORBIDDEN");
  EXPECT_EQ(MatrixErrcode(make("them.test", kRoom, "@dan:them.test", {})),
            "M_INCOMPATIBLE_ROOM_VERSION");
  EXPECT_EQ(MatrixErrcode(make("them.test", kRoom, "@dan:them.test", {"11", "12"})),
            "M_INCOMPATIBLE_ROOM_VERSION");
  // The spec's error body names the room's version.
  EXPECT_EQ(MatrixErrorFields(make("them.test", kRoom, "@dan:them.test", {"11"})),
            R"({"room_version":"10"})");
  EXPECT_EQ(MatrixErrcode(make("them.test", "!nowhere:us.test", "@dan:them.test", {"10"})),
            "M_NOT_FOUND");
  rooms_.acl = {{"allow", {"*"}}, {"deny", {"them.test"}}};
  EXPECT_EQ(MatrixErrcode(make("them.test", kRoom, "@dan:them.test", {"10"})), "M_FORBIDDEN");
  EXPECT_EQ(rooms_.templates, 0);
}

TEST_F(JoinHandlerTest, SendJoinInputsTheJoinOnBehalfOfItsServerAndAnswersTheState) {
  Json join = SignedJoin();
  absl::StatusOr<Json> answer = SendJoin(join);
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(rooms_.inputs.size(), 1u);
  const auto& input = rooms_.inputs[0].events(0);
  EXPECT_EQ(input.kind(), roomserver::v1::INPUT_KIND_NEW);
  EXPECT_EQ(input.send_on_behalf_of(), "them.test");
  EXPECT_EQ((*answer)["origin"], "us.test");
  EXPECT_EQ((*answer)["state"].size(), 1u);
  EXPECT_EQ((*answer)["state"][0]["type"], "m.room.create");
  EXPECT_TRUE((*answer)["auth_chain"].is_array());
  EXPECT_EQ((*answer)["event"]["sender"], "@dan:them.test");
}

TEST_F(JoinHandlerTest, SendJoinRefusesForgeriesBeforeTheRoomserverSeesThem) {
  Json unsigned_join = SignedJoin();
  unsigned_join["signatures"] = Json::object();
  EXPECT_EQ(MatrixErrcode(SendJoin(unsigned_join).status()), "M_FORBIDDEN");
  Json tampered = SignedJoin();
  tampered["content"]["displayname"] = "changed after signing";
  EXPECT_FALSE(SendJoin(tampered).ok());
  EXPECT_EQ(MatrixErrcode(SendJoin(SignedJoin(), "$another").status()), "M_BAD_JSON");
  EXPECT_EQ(MatrixErrcode(SendJoin(SignedJoin("@dan:other.test")).status()), "M_FORBIDDEN");
  EXPECT_EQ(
      MatrixErrcode(SendJoin(SignedJoin("@dan:them.test", "m.room.member", "leave")).status()),
      "M_BAD_JSON");
  EXPECT_EQ(MatrixErrcode(SendJoin(SignedJoin("@dan:them.test", "m.room.message")).status()),
            "M_BAD_JSON");
  EXPECT_EQ(MatrixErrcode(joins_->SendJoin("them.test", kRoom, "$x", "{nope").status()),
            "M_NOT_JSON");
  EXPECT_EQ(MatrixErrcode(joins_->SendJoin("them.test", kRoom, "$x", "[1]").status()),
            "M_BAD_JSON");
  EXPECT_TRUE(rooms_.inputs.empty());
}

TEST_F(JoinHandlerTest, LeavesGoThroughMakeLeaveAndSendLeave) {
  absl::StatusOr<Json> made = joins_->MakeLeave("them.test", kRoom, "@dan:them.test");
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ((*made)["event"]["content"]["membership"], "leave");
  EXPECT_EQ(MatrixErrcode(joins_->MakeLeave("them.test", kRoom, "@dan:other.test").status()),
            "M_FORBIDDEN");
  Json leave = SignedJoin("@dan:them.test", "m.room.member", "leave");
  absl::StatusOr<Json> sent =
      joins_->SendLeave("them.test", kRoom, *matrix::ComputeEventId(leave, 10), leave.dump());
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, Json::object());
  ASSERT_EQ(rooms_.inputs.size(), 1u);
  EXPECT_EQ(rooms_.inputs[0].events(0).send_on_behalf_of(), "them.test");
  // A join is not a leave, nor the other way round.
  Json join = SignedJoin();
  EXPECT_EQ(
      MatrixErrcode(
          joins_->SendLeave("them.test", kRoom, *matrix::ComputeEventId(join, 10), join.dump())
              .status()),
      "M_BAD_JSON");
  EXPECT_EQ(MatrixErrcode(SendJoin(leave).status()), "M_BAD_JSON");
  EXPECT_EQ(rooms_.inputs.size(), 1u);
}

TEST_F(JoinHandlerTest, AJoinTheRoomserverRefusesIsForbiddenAndGetsNoState) {
  rooms_.refuse = true;
  absl::StatusOr<Json> answer = SendJoin(SignedJoin());
  EXPECT_EQ(MatrixErrcode(answer.status()), "M_FORBIDDEN");
}

// A room none of our users is in any more: what we know of it may be stale, so no join or leave is
// taken into it (404, as make_join and make_leave answer), and nothing reaches the roomserver.
TEST_F(JoinHandlerTest, SendJoinAndSendLeaveIntoARoomWeLeftAreNotFound) {
  rooms_.none_of_ours = true;
  EXPECT_EQ(MatrixErrcode(SendJoin(SignedJoin()).status()), "M_NOT_FOUND");
  Json leave = SignedJoin("@dan:them.test", "m.room.member", "leave");
  EXPECT_EQ(
      MatrixErrcode(
          joins_->SendLeave("them.test", kRoom, *matrix::ComputeEventId(leave, 10), leave.dump())
              .status()),
      "M_NOT_FOUND");
  EXPECT_TRUE(rooms_.inputs.empty());
  // Where the auth rules alone would refuse it now (a send_leave retried after it took effect),
  // the roomserver's input answers, as for the first try.
  rooms_.none_of_ours = false;
  rooms_.refuse_template = true;
  ASSERT_TRUE(
      joins_->SendLeave("them.test", kRoom, *matrix::ComputeEventId(leave, 10), leave.dump()).ok());
  EXPECT_EQ(rooms_.inputs.size(), 1u);
}

// A restricted room's join that names one of our users to vouch for it needs our signature (auth
// rule 4.2): as Synapse, we add it before the checks, input the join with it, and send it back in
// the answer; a send_join sent again is signed and answered again. One that names another
// server's user is refused (we cannot sign for it) and nothing is input.
TEST_F(JoinHandlerTest, ARestrictedJoinNamingOurUserIsSignedByUs) {
  rooms_.vouch = "@alice:us.test";
  Json join = SignedJoin("@dan:them.test", "m.room.member", "join",
                         {{"join_authorised_via_users_server", "@alice:us.test"}});
  const std::string id = *matrix::ComputeEventId(join, 10);
  absl::StatusOr<Json> answer = SendJoin(join);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(*matrix::ComputeEventId((*answer)["event"], 10), id);  // the same event
  EXPECT_TRUE(matrix::VerifyEventSignature((*answer)["event"], "us.test", ours_.key_id,
                                           ours_.public_key, 10)
                  .ok());
  ASSERT_EQ(rooms_.inputs.size(), 1u);
  Json input = Json::parse(rooms_.inputs[0].events(0).event_json());
  EXPECT_TRUE(input["signatures"].contains("us.test"));
  EXPECT_TRUE(input["signatures"].contains("them.test"));

  // Dan is joined now: the template names no one, and the join sent again is signed again.
  rooms_.vouch = "";
  absl::StatusOr<Json> retried = SendJoin(join);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE((*retried)["event"]["signatures"].contains("us.test"));
  EXPECT_EQ(rooms_.inputs.size(), 2u);

  Json elsewhere = SignedJoin("@eve:them.test", "m.room.member", "join",
                              {{"join_authorised_via_users_server", "@eve:third.test"}});
  EXPECT_EQ(MatrixErrcode(SendJoin(elsewhere).status()), "M_BAD_JSON");
  EXPECT_EQ(rooms_.inputs.size(), 2u);
}

// A join the roomserver would not make a template for now (a restricted room's user in none of the
// allowed rooms) is refused at send_join too, before anything is input.
TEST_F(JoinHandlerTest, SendJoinIsRefusedWhereMakeJoinWouldBe) {
  rooms_.refuse_template = true;
  EXPECT_EQ(MatrixErrcode(SendJoin(SignedJoin()).status()), "M_FORBIDDEN");
  EXPECT_TRUE(rooms_.inputs.empty());
}

}  // namespace
}  // namespace periscope::federationapi
