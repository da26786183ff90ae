// PUT /v2/invite with a faked roomserver. What must not happen: a server inviting in another
// server's name, an invite of someone who is not our user being signed, a forged or altered
// invite (or one in a room version we cannot read) reaching the roomserver, or our signature
// given to an invite the roomserver refused.

#include "internal/federationapi/inbound/invites.h"

#include <vector>

#include "gtest/gtest.h"
#include "internal/federationapi/testing/fake_key_fetcher.h"
#include "internal/federationapi/testing/fake_server_key_store.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;

constexpr char kRoom[] = "!r:them.test";

// The roomserver: the room is unknown unless `known`; out-of-band memberships recorded, or
// refused with `refusal`.
class FakeRoomserver : public RoomInput {
 public:
  absl::StatusOr<std::optional<int>> RoomVersion(const std::string&) override {
    if (known) return 10;
    return std::nullopt;
  }
  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest&) override {
    return absl::InternalError("invites are not input as room events");
  }
  absl::StatusOr<Json> ServerAcl(const std::string&) override { return acl; }
  absl::Status OutOfBandMembership(
      const roomserver::v1::InputOutOfBandMembershipRequest& request) override {
    if (!refusal.ok()) return refusal;
    recorded.push_back(request);
    return absl::OkStatus();
  }

  bool known = false;
  Json acl = nullptr;
  absl::Status refusal;
  std::vector<roomserver::v1::InputOutOfBandMembershipRequest> recorded;
};

class InviteHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fetcher_.direct["them.test"] =
        *matrix::BuildServerKeys("them.test", theirs_, clock_.Now() + absl::Hours(24));
    keyring_ = std::make_unique<Keyring>("us.test", ours_, keys_, fetcher_,
                                         std::vector<std::string>{}, clock_);
    invites_ = std::make_unique<InviteHandler>("us.test", ours_, rooms_, *keyring_);
  }

  // @alice:them.test's invite of `invitee`, signed by them.test.
  Json SignedInvite(const std::string& invitee = "@bob:us.test",
                    const std::string& sender = "@alice:them.test",
                    const std::string& membership = "invite") {
    Json event = {{"room_id", kRoom},
                  {"type", "m.room.member"},
                  {"sender", sender},
                  {"state_key", invitee},
                  {"origin", "them.test"},
                  {"content", {{"membership", membership}}},
                  {"prev_events", {"$join"}},
                  {"auth_events", {"$create", "$join", "$power"}},
                  {"depth", 4},
                  {"origin_server_ts", 1}};
    return *matrix::SignEvent(event, "them.test", theirs_, 10);
  }
  Json Body(const Json& event, const std::string& version = "10") {
    return {{"room_version", version},
            {"event", event},
            {"invite_room_state",
             {{{"type", "m.room.name"},
               {"state_key", ""},
               {"sender", "@alice:them.test"},
               {"content", {{"name", "Garden"}}}}}}};
  }
  absl::StatusOr<Json> Invite(const Json& body, std::string id = "",
                              const std::string& origin = "them.test") {
    if (id.empty()) id = *matrix::ComputeEventId(body["event"], 10);
    return invites_->Invite(origin, kRoom, id, body.dump());
  }

  SimulatedClock clock_;
  matrix::SigningKey ours_ = *matrix::GenerateSigningKey("us");
  matrix::SigningKey theirs_ = *matrix::GenerateSigningKey("them");
  testing::FakeServerKeyStore keys_;
  testing::FakeKeyFetcher fetcher_;
  std::unique_ptr<Keyring> keyring_;
  FakeRoomserver rooms_;
  std::unique_ptr<InviteHandler> invites_;
};

TEST_F(InviteHandlerTest, SignsTheInviteOfOurUserAndRecordsItWithTheStrippedState) {
  Json invite = SignedInvite();
  const std::string id = *matrix::ComputeEventId(invite, 10);
  absl::StatusOr<Json> answer = Invite(Body(invite));
  ASSERT_TRUE(answer.ok()) << answer.status();
  const Json& signed_event = (*answer)["event"];
  // The same event (same id), now signed by both servers, each signature valid.
  EXPECT_EQ(*matrix::ComputeEventId(signed_event, 10), id);
  EXPECT_TRUE(signed_event["signatures"].contains("them.test"));
  EXPECT_TRUE(
      matrix::VerifyEventSignature(signed_event, "us.test", ours_.key_id, ours_.public_key, 10)
          .ok());
  ASSERT_EQ(rooms_.recorded.size(), 1u);
  EXPECT_EQ(rooms_.recorded[0].room_version(), "10");
  EXPECT_EQ(Json::parse(rooms_.recorded[0].event_json()), signed_event);
  ASSERT_EQ(rooms_.recorded[0].invite_room_state_json_size(), 1);
  EXPECT_EQ(Json::parse(rooms_.recorded[0].invite_room_state_json(0))["content"]["name"], "Garden");
}

TEST_F(InviteHandlerTest, RefusesWhatTheServerMayNotAskBeforeAnythingIsRecorded) {
  // Another server's user, or a user of ours invited in another server's name.
  EXPECT_EQ(MatrixErrcode(Invite(Body(SignedInvite("@bob:else.test"))).status()), "M_FORBIDDEN");
  EXPECT_EQ(MatrixErrcode(Invite(Body(SignedInvite("@bob:us.test", "@eve:else.test"))).status()),
            "M_FORBIDDEN");
  // Not an invite.
  EXPECT_EQ(MatrixErrcode(
                Invite(Body(SignedInvite("@bob:us.test", "@alice:them.test", "join"))).status()),
            "M_BAD_JSON");
  // Unsigned, or altered after signing.
  Json unsigned_invite = SignedInvite();
  unsigned_invite["signatures"] = Json::object();
  EXPECT_EQ(MatrixErrcode(Invite(Body(unsigned_invite)).status()), "M_FORBIDDEN");
  Json altered = SignedInvite();
  altered["depth"] = 5;
  EXPECT_EQ(MatrixErrcode(Invite(Body(altered)).status()), "M_FORBIDDEN");
  // Not the id or the room of the path.
  EXPECT_EQ(MatrixErrcode(Invite(Body(SignedInvite()), "$another").status()), "M_BAD_JSON");
  EXPECT_EQ(MatrixErrcode(invites_
                              ->Invite("them.test", "!other:them.test",
                                       *matrix::ComputeEventId(SignedInvite(), 10),
                                       Body(SignedInvite()).dump())
                              .status()),
            "M_BAD_JSON");
  // A room version we do not support.
  absl::Status old = Invite(Body(SignedInvite(), "1")).status();
  EXPECT_EQ(old.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MatrixErrcode(old), "M_INCOMPATIBLE_ROOM_VERSION");
  // Malformed bodies.
  EXPECT_EQ(MatrixErrcode(invites_->Invite("them.test", kRoom, "$x", "{nope").status()),
            "M_NOT_JSON");
  EXPECT_EQ(MatrixErrcode(invites_->Invite("them.test", kRoom, "$x", "[]").status()), "M_BAD_JSON");
  Json no_version = Body(SignedInvite());
  no_version.erase("room_version");
  EXPECT_EQ(MatrixErrcode(Invite(no_version).status()), "M_BAD_JSON");
  Json bad_state = Body(SignedInvite());
  bad_state["invite_room_state"] = "name";
  EXPECT_EQ(MatrixErrcode(Invite(bad_state).status()), "M_BAD_JSON");
  EXPECT_TRUE(rooms_.recorded.empty());
}

TEST_F(InviteHandlerTest, AServerTheRoomsAclDeniesIsRefused) {
  rooms_.known = true;
  rooms_.acl = {{"allow", {"*"}}, {"deny", {"them.test"}}};
  EXPECT_EQ(MatrixErrcode(Invite(Body(SignedInvite())).status()), "M_FORBIDDEN");
  EXPECT_TRUE(rooms_.recorded.empty());
}

TEST_F(InviteHandlerTest, AnInviteTheRoomserverRefusesIsNotSigned) {
  rooms_.refusal = MatrixError(absl::StatusCode::kPermissionDenied, "M_FORBIDDEN",
                               "The room refuses the invite: the target is banned");
  absl::StatusOr<Json> answer = Invite(Body(SignedInvite()));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace periscope::federationapi
