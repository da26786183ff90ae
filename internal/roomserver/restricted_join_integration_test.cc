// Restricted joins (room versions 8+), the resident's part, on a real roomserver (gRPC,
// PostgreSQL, nats-server): a user joined to an allowed room may join, vouched for by one of our
// users who may invite; what must not happen is a join of someone in none of the allowed rooms, a
// join vouched for by someone who may not invite, or a template that names no one (which the
// auth rules would refuse at send_join).

#include <string>

#include "gtest/gtest.h"
#include "internal/roomserver/testing/roomserver_fixture.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/signing_key.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

using matrix::Json;
using testing::kAlice;
using testing::kBob;

constexpr char kDan[] = "@dan:remote.test";

class RestrictedJoinTest : public testing::RoomserverTest {
 protected:
  // A public room, and a room (version `version`) open to the members of the public one.
  void MakeRooms(const std::string& version, const std::string& levels_override = "") {
    v1::PerformCreateRoomRequest open;
    open.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
    absl::StatusOr<v1::PerformCreateRoomResponse> made = CreateRoom(open);
    ASSERT_TRUE(made.ok()) << made.status();
    space_ = made->room_id();

    v1::PerformCreateRoomRequest restricted;
    restricted.set_room_version(version);
    v1::StateEvent* rules = restricted.add_initial_state();
    rules->set_type("m.room.join_rules");
    rules->set_content_json(Json{{"join_rule", "restricted"},
                                 {"allow", {{{"type", "m.room_membership"}, {"room_id", space_}}}}}
                                .dump());
    if (!levels_override.empty()) restricted.set_power_level_content_override_json(levels_override);
    made = CreateRoom(restricted);
    ASSERT_TRUE(made.ok()) << made.status();
    room_ = made->room_id();
  }

  grpc::Status Template(const std::string& user, v1::QueryMembershipTemplateResponse* out) {
    v1::QueryMembershipTemplateRequest request;
    request.set_room_id(room_);
    request.set_user_id(user);
    request.set_membership("join");
    grpc::ClientContext ctx;
    return stub_->QueryMembershipTemplate(&ctx, request, out);
  }

  // Dan of remote.test joins the public room (as send_join would input his join).
  void DanJoinsTheSpace() {
    v1::QueryMembershipTemplateRequest request;
    request.set_room_id(space_);
    request.set_user_id(kDan);
    request.set_membership("join");
    grpc::ClientContext ctx;
    v1::QueryMembershipTemplateResponse made;
    ASSERT_TRUE(stub_->QueryMembershipTemplate(&ctx, request, &made).ok());
    v1::InputRoomEventsResponse response = InputFromRemote(
        *matrix::SignEvent(*matrix::ParseJson(made.event_json()), "remote.test", remote_, 12));
    ASSERT_TRUE(response.rejected().empty() && response.not_processed().empty())
        << response.DebugString();
  }

  // `event` as federation input from remote.test (send_join does this).
  v1::InputRoomEventsResponse InputFromRemote(const Json& event) {
    v1::InputRoomEventsRequest input;
    v1::InputRoomEvent* in = input.add_events();
    in->set_kind(v1::INPUT_KIND_NEW);
    in->set_event_json(*matrix::EncodeCanonicalJson(event));
    in->set_origin("remote.test");
    grpc::ClientContext ctx;
    v1::InputRoomEventsResponse response;
    EXPECT_TRUE(stub_->InputRoomEvents(&ctx, input, &response).ok());
    return response;
  }

  std::string MemberContentField(const std::string& user, const std::string& field) {
    for (const Json& e : State(room_)) {
      if (matrix::StringField(e, "type") == "m.room.member" &&
          matrix::StringField(e, "state_key") == user) {
        return matrix::StringField(matrix::ContentOf(e), field.c_str());
      }
    }
    return "<no member event>";
  }

  matrix::SigningKey remote_ = *matrix::GenerateSigningKey("r1");
  std::string space_;
  std::string room_;
};

TEST_F(RestrictedJoinTest, AMemberOfAnAllowedRoomJoinsVouchedForByAUserWhoMayInvite) {
  MakeRooms("10");
  // Bob is in none of the allowed rooms: refused, and nothing is written.
  absl::StatusOr<v1::PerformMembershipResponse> refused =
      Member(kBob, room_, v1::MEMBERSHIP_ACTION_JOIN);
  EXPECT_EQ(MatrixErrcode(refused.status()), "M_FORBIDDEN") << refused.status();
  EXPECT_EQ(MemberContentField(kBob, "membership"), "<no member event>");

  ASSERT_TRUE(Member(kBob, space_, v1::MEMBERSHIP_ACTION_JOIN).ok());
  absl::StatusOr<v1::PerformMembershipResponse> joined =
      Member(kBob, room_, v1::MEMBERSHIP_ACTION_JOIN);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(MemberContentField(kBob, "membership"), "join");
  EXPECT_EQ(MemberContentField(kBob, "join_authorised_via_users_server"), kAlice);
}

TEST_F(RestrictedJoinTest, MakeJoinNamesWhoVouchesOnlyForAMemberOfAnAllowedRoom) {
  MakeRooms("12");
  v1::QueryMembershipTemplateResponse made;
  grpc::Status status = Template(kDan, &made);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();

  DanJoinsTheSpace();
  status = Template(kDan, &made);
  ASSERT_TRUE(status.ok()) << status.error_message();
  Json event = *matrix::ParseJson(made.event_json());
  EXPECT_EQ(event["content"]["join_authorised_via_users_server"], kAlice);
  EXPECT_EQ(event["content"]["membership"], "join");
  EXPECT_FALSE(event.contains("signatures"));  // the joining server signs, then we do

  // The join dan's server sends back, signed by it and by us, is accepted.
  Json join = *matrix::SignEvent(event, "remote.test", remote_, 12);
  join = *matrix::AddEventSignature(join, testing::kServer, key_, 12);
  v1::InputRoomEventsResponse response = InputFromRemote(join);
  EXPECT_TRUE(response.rejected().empty() && response.not_processed().empty())
      << response.DebugString();
  EXPECT_EQ(MemberContentField(kDan, "membership"), "join");
}

TEST_F(RestrictedJoinTest, NoOneHereMayInviteSoTheJoiningServerIsToldToAskAnother) {
  // Inviting needs more than anyone has, the creator included (version 10: creators are not
  // above the levels).
  MakeRooms("10", R"({"invite": 101})");
  ASSERT_TRUE(Member(kBob, space_, v1::MEMBERSHIP_ACTION_JOIN).ok());
  absl::StatusOr<v1::PerformMembershipResponse> refused =
      Member(kBob, room_, v1::MEMBERSHIP_ACTION_JOIN);
  EXPECT_EQ(MatrixErrcode(refused.status()), "M_UNABLE_TO_GRANT_JOIN") << refused.status();
  DanJoinsTheSpace();
  v1::QueryMembershipTemplateResponse made;
  grpc::Status status = Template(kDan, &made);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("may invite"), std::string::npos);
}

// Only allowed rooms this server is in tell: after alice leaves the allowed room, what this
// server last knew of it (dan joined) may be stale, so it cannot vouch, and says so (the joining
// server asks another).
TEST_F(RestrictedJoinTest, AnAllowedRoomThisServerLeftCannotTell) {
  MakeRooms("10");
  DanJoinsTheSpace();
  ASSERT_TRUE(Member(kAlice, space_, v1::MEMBERSHIP_ACTION_LEAVE).ok());
  v1::QueryMembershipTemplateResponse made;
  grpc::Status status = Template(kDan, &made);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("cannot tell"), std::string::npos);
  // Of its own users it knows: bob is in none of the allowed rooms.
  EXPECT_EQ(MatrixErrcode(Member(kBob, room_, v1::MEMBERSHIP_ACTION_JOIN).status()), "M_FORBIDDEN");
}

}  // namespace
}  // namespace periscope::roomserver
