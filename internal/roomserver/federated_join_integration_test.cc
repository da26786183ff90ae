// A room joined over federation, on a real roomserver (gRPC, PostgreSQL, nats-server): the
// resident's answer (auth chain and state as outliers, then our join with that state) creates the
// room here, makes its current state, and lets a local user send in it. What must not happen: a
// room created by input that did not ask for it, a join the given state refuses taking effect,
// an outlier placed without its auth events, or a make_join template for a refused user.

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "internal/roomserver/testing/roomserver_fixture.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"

namespace periscope::roomserver {
namespace {

using matrix::Json;
using testing::kAlice;

constexpr char kRoom[] = "!hall:remote.test";
constexpr char kBob[] = "@bob:remote.test";

class FederatedJoinTest : public testing::RoomserverTest {
 protected:
  // The room as remote.test built it: bob's create, join, power levels, `join_rule`, a name.
  void BuildRemoteRoom(const std::string& join_rule) {
    Add(kBob, "m.room.create", "", {{"creator", kBob}, {"room_version", "10"}}, remote_);
    Add(kBob, "m.room.member", kBob, {{"membership", "join"}}, remote_);
    Add(kBob, "m.room.power_levels", "", {{"users", {{kBob, 100}}}}, remote_);
    Add(kBob, "m.room.join_rules", "", {{"join_rule", join_rule}}, remote_);
    Add(kBob, "m.room.name", "", {{"name", "Hall"}}, remote_);
  }

  // A state event following the last one, authorised by the state so far.
  matrix::BuiltEvent Build(const std::string& sender, const std::string& type,
                           const std::string& key, Json content, const matrix::SigningKey& signer,
                           const std::string& origin) {
    matrix::ProtoEvent proto{kRoom, sender, type, key, std::move(content)};
    proto.origin_server_ts = 1000 + static_cast<int64_t>(events_.size());
    std::vector<matrix::PrevEvent> prevs;
    if (!events_.empty()) prevs.push_back({ids_.back(), static_cast<int64_t>(events_.size())});
    return *matrix::BuildEvent(proto, state_, prevs, 10, origin, signer);
  }
  void Add(const std::string& sender, const std::string& type, const std::string& key, Json content,
           const matrix::SigningKey& signer) {
    matrix::BuiltEvent built = Build(sender, type, key, std::move(content), signer, "remote.test");
    ASSERT_TRUE(state_.Put(built.event_id, built.event).ok());  // builds the state forwards
    ids_.push_back(built.event_id);
    events_.push_back(built.event);
  }

  // A join (with `state`) is ours: RoomJoiner inputs it with our server as its origin.
  v1::InputRoomEventsResponse Input(const std::vector<Json>& events, v1::InputKind kind,
                                    bool create, const std::vector<std::string>& state = {},
                                    std::string origin = "") {
    if (origin.empty()) origin = state.empty() ? "remote.test" : testing::kServer;
    v1::InputRoomEventsRequest request;
    if (create) request.set_create_room_version("10");
    for (const Json& e : events) {
      v1::InputRoomEvent* in = request.add_events();
      in->set_kind(kind);
      in->set_event_json(*matrix::EncodeCanonicalJson(e));
      in->set_origin(origin);
      if (!state.empty()) {
        in->set_has_state(true);
        for (const std::string& id : state) in->add_state_event_ids(id);
      }
    }
    grpc::ClientContext ctx;
    v1::InputRoomEventsResponse response;
    grpc::Status status = stub_->InputRoomEvents(&ctx, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // remote.test's public room, joined by alice as RoomJoiner takes a join in (state as outliers,
  // then her join with that state); her join follows in `ids_` and `events_`.
  matrix::BuiltEvent AliceJoinsThePublicRoom() {
    BuildRemoteRoom("public");
    return AliceJoinsTheRoomAsBuilt();
  }
  // The same for the room as built so far.
  matrix::BuiltEvent AliceJoinsTheRoomAsBuilt() {
    matrix::BuiltEvent join =
        Build(kAlice, "m.room.member", kAlice, {{"membership", "join"}}, key_, "rs.test");
    Input(events_, v1::INPUT_KIND_OUTLIER, true);
    EXPECT_TRUE(Input({join.event}, v1::INPUT_KIND_NEW, true, ids_).rejected().empty());
    EXPECT_TRUE(state_.Add(join.event_id, join.event).ok());
    ids_.push_back(join.event_id);
    events_.push_back(join.event);
    return join;
  }

  bool RoomKnown() {
    v1::QueryRoomVersionRequest request;
    request.set_room_id(kRoom);
    grpc::ClientContext ctx;
    v1::QueryRoomVersionResponse response;
    return stub_->QueryRoomVersion(&ctx, request, &response).ok();
  }

  matrix::SigningKey remote_ = *matrix::GenerateSigningKey("r1");
  matrix::AuthEvents state_;
  std::vector<std::string> ids_;
  std::vector<Json> events_;
};

TEST_F(FederatedJoinTest, TheResidentsAnswerMakesTheRoomAndALocalUserTalksInIt) {
  BuildRemoteRoom("public");
  matrix::BuiltEvent join =
      Build(kAlice, "m.room.member", kAlice, {{"membership", "join"}}, key_, "rs.test");

  // Without create_room_version the room stays unknown, and nothing is kept.
  v1::InputRoomEventsResponse refused = Input(events_, v1::INPUT_KIND_OUTLIER, false);
  EXPECT_EQ(refused.not_processed_size(), 5);
  EXPECT_FALSE(RoomKnown());

  v1::InputRoomEventsResponse outliers = Input(events_, v1::INPUT_KIND_OUTLIER, true);
  EXPECT_TRUE(outliers.rejected().empty() && outliers.not_processed().empty());
  // Outliers are no state: the room exists but has no current state yet.
  EXPECT_TRUE(RoomKnown());
  EXPECT_TRUE(State(kRoom).empty());

  v1::InputRoomEventsResponse joined = Input({join.event}, v1::INPUT_KIND_NEW, true, ids_);
  EXPECT_TRUE(joined.rejected().empty() && joined.not_processed().empty() &&
              joined.soft_failed_event_ids().empty())
      << joined.DebugString();
  std::set<std::string> types;
  for (const Json& e : State(kRoom)) {
    types.insert(matrix::StringField(e, "type") + "/" + matrix::StringField(e, "state_key"));
  }
  EXPECT_EQ(types,
            (std::set<std::string>{"m.room.create/", "m.room.member/" + std::string(kBob),
                                   "m.room.member/" + std::string(kAlice), "m.room.power_levels/",
                                   "m.room.join_rules/", "m.room.name/"}));

  // The join's output message names the whole state it brought in, which consumers fetch.
  std::vector<v1::OutputEvent> output = ReadOutputUntil([&](const auto& got) {
    for (const auto& o : got) {
      if (o.new_room_event().event_id() == join.event_id) return true;
    }
    return false;
  });
  const v1::NewRoomEvent* join_output = nullptr;
  for (const auto& o : output) {
    if (o.new_room_event().event_id() == join.event_id) join_output = &o.new_room_event();
  }
  ASSERT_NE(join_output, nullptr);
  // The state came whole: the message says so rather than list it (a big room's state would not
  // fit in one message); consumers read it from the roomserver.
  EXPECT_TRUE(join_output->state_reset());
  EXPECT_EQ(join_output->adds_state_event_ids_size(), 0);
  // It names the room's current state after it, which the roomserver serves by that name; a group
  // of another room is not served.
  ASSERT_NE(join_output->current_state_group(), 0);
  {
    v1::QueryStateAtEventRequest request;
    request.set_room_id(kRoom);
    request.set_state_group(join_output->current_state_group());
    grpc::ClientContext ctx;
    v1::QueryStateAtEventResponse response;
    ASSERT_TRUE(stub_->QueryStateAtEvent(&ctx, request, &response).ok());
    EXPECT_EQ(response.state_event_ids_size(), 6);
    request.set_room_id("!other:rs.test");
    grpc::ClientContext other_ctx;
    EXPECT_EQ(stub_->QueryStateAtEvent(&other_ctx, request, &response).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_TRUE(join_output->from_federation());
  EXPECT_EQ(output.size(), 1u);  // outliers are not on the stream

  // Alice sends in the room: her event follows her join.
  absl::StatusOr<std::string> sent =
      Send(kRoom, kAlice, "m.room.message", R"({"body":"hi"})", "t1");
  ASSERT_TRUE(sent.ok()) << sent.status();
}

TEST_F(FederatedJoinTest, AJoinItsGivenStateRefusesTakesNoEffect) {
  BuildRemoteRoom("invite");
  matrix::BuiltEvent join =
      Build(kAlice, "m.room.member", kAlice, {{"membership", "join"}}, key_, "rs.test");
  Input(events_, v1::INPUT_KIND_OUTLIER, true);
  v1::InputRoomEventsResponse joined = Input({join.event}, v1::INPUT_KIND_NEW, true, ids_);
  EXPECT_EQ(joined.rejected_size(), 1) << joined.DebugString();
  EXPECT_TRUE(State(kRoom).empty());
  EXPECT_FALSE(Send(kRoom, kAlice, "m.room.message", R"({"body":"hi"})", "t1").ok());
}

TEST_F(FederatedJoinTest, AnOutlierWithoutItsAuthEventsIsNotPlaced) {
  BuildRemoteRoom("public");
  // The create event is left out: everything else names it.
  std::vector<Json> rest(events_.begin() + 1, events_.end());
  v1::InputRoomEventsResponse response = Input(rest, v1::INPUT_KIND_OUTLIER, true);
  EXPECT_EQ(response.not_processed_size(), 4) << response.DebugString();
  // And a join whose given state names events never input is not placed either.
  matrix::BuiltEvent join =
      Build(kAlice, "m.room.member", kAlice, {{"membership", "join"}}, key_, "rs.test");
  EXPECT_EQ(Input({join.event}, v1::INPUT_KIND_NEW, true, ids_).not_processed_size(), 1);
  EXPECT_TRUE(State(kRoom).empty());
}

TEST_F(FederatedJoinTest, MakeJoinTemplatesFollowTheRoomAndRefuseWhomTheRulesRefuse) {
  absl::StatusOr<v1::PerformCreateRoomResponse> open = [&] {
    v1::PerformCreateRoomRequest request;
    request.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
    return CreateRoom(request);
  }();
  ASSERT_TRUE(open.ok()) << open.status();
  auto make = [&](const std::string& room, const std::string& user) {
    v1::QueryMembershipTemplateRequest request;
    request.set_room_id(room);
    request.set_user_id(user);
    request.set_membership("join");
    grpc::ClientContext ctx;
    v1::QueryMembershipTemplateResponse response;
    grpc::Status status = stub_->QueryMembershipTemplate(&ctx, request, &response);
    return std::make_pair(status, response);
  };
  auto [ok, made] = make(open->room_id(), "@dan:remote.test");
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(made.room_version(), "12");  // the configured default
  Json event = *matrix::ParseJson(made.event_json());
  EXPECT_EQ(event["state_key"], "@dan:remote.test");
  EXPECT_EQ(event["content"]["membership"], "join");
  EXPECT_FALSE(event.contains("signatures"));
  EXPECT_FALSE(event.contains("hashes"));
  EXPECT_EQ(event["prev_events"].size(), 1u);
  EXPECT_FALSE(event["auth_events"].empty());

  absl::StatusOr<v1::PerformCreateRoomResponse> closed = CreateRoom(v1::PerformCreateRoomRequest());
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(make(closed->room_id(), "@dan:remote.test").first.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(make("!nowhere:rs.test", "@dan:remote.test").first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Once none of our users is in the room, what we know of it may be stale: no template.
  ASSERT_TRUE(Member(kAlice, open->room_id(), v1::MEMBERSHIP_ACTION_LEAVE).ok());
  EXPECT_EQ(make(open->room_id(), "@dan:remote.test").first.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace periscope::roomserver

namespace periscope::roomserver {
namespace {

// Another server's event placed across a gap comes with the state its server claims: that state is
// one more branch to resolve with what we know, never the room's state instead of it. Here the
// claim leaves out a ban, and the event names our extremity (so it would become the only one).
TEST_F(FederatedJoinTest, AStateClaimedAcrossAGapCannotUndoABan) {
  BuildRemoteRoom("public");
  Add("@eve:remote.test", "m.room.member", "@eve:remote.test", {{"membership", "join"}}, remote_);
  const std::vector<std::string> before_ban = ids_;
  matrix::AuthEvents old_state = state_;
  matrix::BuiltEvent join = AliceJoinsTheRoomAsBuilt();
  // Bob bans eve: the room's state here says so.
  matrix::BuiltEvent ban = Build(kBob, "m.room.member", "@eve:remote.test", {{"membership", "ban"}},
                                 remote_, "remote.test");
  v1::InputRoomEventsResponse banned = Input({ban.event}, v1::INPUT_KIND_NEW, false);
  ASSERT_TRUE(banned.rejected().empty() && banned.not_processed().empty()) << banned.DebugString();

  // Bob's message after the ban and after an event we never got, with a state that omits it.
  matrix::ProtoEvent proto{kRoom, kBob, "m.room.message", std::nullopt, Json{{"body", "hi"}}};
  proto.origin_server_ts = 9000;
  Json message = matrix::BuildEvent(proto, old_state, {{ban.event_id, 8}, {"$never-seen", 8}}, 10,
                                    "remote.test", remote_)
                     ->event;
  std::vector<std::string> claimed = before_ban;
  claimed.push_back(join.event_id);
  v1::InputRoomEventsResponse placed =
      Input({message}, v1::INPUT_KIND_NEW, false, claimed, "remote.test");
  EXPECT_TRUE(placed.not_processed().empty()) << placed.DebugString();
  std::string eve;
  for (const Json& e : State(kRoom)) {
    if (matrix::StringField(e, "state_key") == "@eve:remote.test") {
      eve = matrix::StringField(matrix::ContentOf(e), "membership");
    }
  }
  EXPECT_EQ(eve, "ban");
}

// An event first received as an outlier (in a /state answer, an auth chain, or while our join was
// under way) and later as a timeline event is placed then, as Synapse and Dendrite "de-outlier"
// it: it enters the current state and the output stream once, and its children can be placed.
// What must not happen: a refusal ("stored as an outlier") that loses the event, a second output
// when it comes a third time, or a rejected outlier placed because it came again.
TEST_F(FederatedJoinTest, AnOutlierThatArrivesAgainInTheTimelineIsPlacedOnce) {
  AliceJoinsThePublicRoom();

  // Bob sets a topic after alice's join; we first get it as an outlier.
  Add(kBob, "m.room.topic", "", {{"topic", "ships"}}, remote_);
  const Json topic = events_.back();
  const std::string topic_id = ids_.back();
  v1::InputRoomEventsResponse outlier = Input({topic}, v1::INPUT_KIND_OUTLIER, false);
  ASSERT_TRUE(outlier.rejected().empty() && outlier.not_processed().empty());
  for (const Json& e : State(kRoom)) {
    EXPECT_NE(matrix::StringField(e, "type"), "m.room.topic");  // an outlier is no state
  }

  // Then it comes through /send: placed after alice's join, it becomes the room's topic.
  v1::InputRoomEventsResponse placed = Input({topic}, v1::INPUT_KIND_NEW, false);
  EXPECT_TRUE(placed.rejected().empty() && placed.not_processed().empty() &&
              placed.soft_failed_event_ids().empty())
      << placed.DebugString();
  {
    bool found = false;
    for (const Json& e : State(kRoom)) {
      if (matrix::StringField(e, "type") == "m.room.topic") {
        found = true;
        EXPECT_EQ(matrix::StringField(matrix::ContentOf(e), "topic"), "ships");
      }
    }
    EXPECT_TRUE(found);
  }
  // A message after it is placed too (its prev event is no longer an outlier).
  matrix::ProtoEvent proto{kRoom, kBob, "m.room.message", std::nullopt, Json{{"body", "ahoy"}}};
  proto.origin_server_ts = 9000;
  matrix::BuiltEvent message =
      *matrix::BuildEvent(proto, state_, {{topic_id, 8}}, 10, "remote.test", remote_);
  const std::string message_id = message.event_id;
  v1::InputRoomEventsResponse after = Input({message.event}, v1::INPUT_KIND_NEW, false);
  EXPECT_TRUE(after.rejected().empty() && after.not_processed().empty()) << after.DebugString();
  // The third time changes nothing: the topic is on the stream once. A last message follows, so
  // that a second output of the topic would come before it.
  Input({topic}, v1::INPUT_KIND_NEW, false);
  matrix::ProtoEvent last_proto{kRoom, kBob, "m.room.message", std::nullopt,
                                Json{{"body", "last"}}};
  last_proto.origin_server_ts = 9001;
  matrix::BuiltEvent last =
      *matrix::BuildEvent(last_proto, state_, {{message_id, 9}}, 10, "remote.test", remote_);
  ASSERT_TRUE(Input({last.event}, v1::INPUT_KIND_NEW, false).rejected().empty());
  std::vector<v1::OutputEvent> output = ReadOutputUntil([&](const auto& got) {
    for (const auto& o : got) {
      if (o.new_room_event().event_id() == last.event_id) return true;
    }
    return false;
  });
  int topic_outputs = 0;
  for (const auto& o : output) topic_outputs += o.new_room_event().event_id() == topic_id;
  EXPECT_EQ(topic_outputs, 1);

  // The create event, an outlier since the join, has no place to take: coming again changes
  // nothing and is no error.
  v1::InputRoomEventsResponse create_again = Input({events_[0]}, v1::INPUT_KIND_NEW, false);
  EXPECT_TRUE(create_again.rejected().empty() && create_again.not_processed().empty())
      << create_again.DebugString();

  // A rejected outlier stays rejected when it comes again: eve (never joined) sets a name.
  const Json forged =
      Build("@eve:remote.test", "m.room.name", "", {{"name", "Eve's"}}, remote_, "remote.test")
          .event;
  Input({forged}, v1::INPUT_KIND_OUTLIER, false);
  EXPECT_EQ(Input({forged}, v1::INPUT_KIND_NEW, false).rejected_size(), 1);
  for (const Json& e : State(kRoom)) {
    if (matrix::StringField(e, "type") == "m.room.name") {
      EXPECT_EQ(matrix::StringField(matrix::ContentOf(e), "name"), "Hall");
    }
  }
}

// An outlier we accepted (its own auth events allow it) that fails when it comes again in the
// timeline, against the state before it as we know it, keeps its accepted outlier row: it may be
// in the room's state (from a join), and events naming it must not become rejected with it.
TEST_F(FederatedJoinTest, AnOutlierThatFailsInTheTimelineStaysTheAcceptedOutlierItWas) {
  const std::string carol = "@carol:remote.test";
  BuildRemoteRoom("public");
  Add(carol, "m.room.member", carol, {{"membership", "join"}}, remote_);
  Add(kBob, "m.room.power_levels", "", {{"users", {{kBob, 100}, {carol, 50}}}}, remote_);
  AliceJoinsTheRoomAsBuilt();
  const matrix::AuthEvents carol_powerful = state_;

  // Bob takes carol's power away; we place that.
  matrix::BuiltEvent demote =
      Build(kBob, "m.room.power_levels", "", {{"users", {{kBob, 100}}}}, remote_, "remote.test");
  ASSERT_TRUE(Input({demote.event}, v1::INPUT_KIND_NEW, false).rejected().empty());

  // Carol's topic after it, authorised by the levels she had: as an outlier it is accepted (its
  // auth events allow it); in the timeline, after the demotion, it is not.
  matrix::ProtoEvent proto{kRoom, carol, "m.room.topic", "", Json{{"topic", "mine"}}};
  proto.origin_server_ts = 9000;
  Json topic =
      matrix::BuildEvent(proto, carol_powerful, {{demote.event_id, 9}}, 10, "remote.test", remote_)
          ->event;
  ASSERT_TRUE(Input({topic}, v1::INPUT_KIND_OUTLIER, false).rejected().empty());
  EXPECT_EQ(Input({topic}, v1::INPUT_KIND_NEW, false).rejected_size(), 1);
  // Still the accepted outlier: as an outlier again, it is accepted, not "rejected when first
  // received".
  v1::InputRoomEventsResponse again = Input({topic}, v1::INPUT_KIND_OUTLIER, false);
  EXPECT_TRUE(again.rejected().empty()) << again.DebugString();
  for (const Json& e : State(kRoom)) EXPECT_NE(matrix::StringField(e, "type"), "m.room.topic");
}

// Invites from another server into a room we are not in (InputOutOfBandMembership): kept as an
// outlier, told to syncapi once with the stripped state, never in the room's state here; refused
// for someone else's user, and, once we are in the room, when the room's auth rules refuse it.
class OutOfBandMembershipTest : public FederatedJoinTest {
 protected:
  grpc::Status Record(const Json& event, const std::vector<Json>& stripped = {},
                      const std::string& version = "10") {
    v1::InputOutOfBandMembershipRequest request;
    request.set_event_json(*matrix::EncodeCanonicalJson(event));
    request.set_room_version(version);
    for (const Json& s : stripped) request.add_invite_room_state_json(s.dump());
    grpc::ClientContext ctx;
    v1::InputOutOfBandMembershipResponse response;
    return stub_->InputOutOfBandMembership(&ctx, request, &response);
  }
};

TEST_F(OutOfBandMembershipTest, AnInviteIntoAnUnknownRoomIsToldToSyncapiOnceAndChangesNoState) {
  BuildRemoteRoom("invite");
  matrix::BuiltEvent invite =
      Build(kBob, "m.room.member", kAlice, {{"membership", "invite"}}, remote_, "remote.test");
  const Json name = {{"type", "m.room.name"},
                     {"state_key", ""},
                     {"sender", kBob},
                     {"content", {{"name", "Hall"}}}};
  const Json huge = {{"type", "m.room.topic"},
                     {"state_key", ""},
                     {"sender", kBob},
                     {"content", {{"topic", std::string(9000, 't')}}}};
  grpc::Status first = Record(invite.event, {name, Json("not an event"), huge});
  ASSERT_TRUE(first.ok()) << first.error_message();
  ASSERT_TRUE(Record(invite.event, {name}).ok());  // again: idempotent
  EXPECT_TRUE(RoomKnown());
  EXPECT_TRUE(State(kRoom).empty());

  std::vector<v1::OutputEvent> output = ReadOutput(1);
  ASSERT_EQ(output.size(), 1u);
  const v1::NewRoomEvent& told = output[0].new_room_event();
  EXPECT_EQ(told.event_id(), invite.event_id);
  EXPECT_TRUE(told.from_federation());  // relayed by no one
  ASSERT_EQ(told.adds_state_event_ids_size(), 1);
  EXPECT_EQ(told.adds_state_event_ids(0), invite.event_id);
  Json sent = *matrix::ParseJson(told.event_json());
  // The malformed entry and the oversized one dropped.
  ASSERT_EQ(sent["unsigned"]["invite_room_state"].size(), 1u);
  EXPECT_EQ(sent["unsigned"]["invite_room_state"][0]["content"]["name"], "Hall");

  // The rejection's leave is recorded the same way, after it.
  matrix::BuiltEvent leave =
      Build(kAlice, "m.room.member", kAlice, {{"membership", "leave"}}, key_, "rs.test");
  ASSERT_TRUE(Record(leave.event).ok());
  output = ReadOutput(2);
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[1].new_room_event().event_id(), leave.event_id);
  EXPECT_GT(output[1].room_sequence(), output[0].room_sequence());
}

// An invite naming a version the room does not have cannot keep our user out of it: the join's
// version (checked against the create event) replaces it while the room has no state here.
TEST_F(OutOfBandMembershipTest, AnInvitesWrongRoomVersionGivesWayToTheJoins) {
  BuildRemoteRoom("public");
  matrix::BuiltEvent invite =
      Build(kBob, "m.room.member", kAlice, {{"membership", "invite"}}, remote_, "remote.test");
  ASSERT_TRUE(Record(invite.event, {}, "9").ok());
  matrix::BuiltEvent join =
      Build(kAlice, "m.room.member", kAlice, {{"membership", "join"}}, key_, "rs.test");
  v1::InputRoomEventsResponse outliers = Input(events_, v1::INPUT_KIND_OUTLIER, true);
  EXPECT_TRUE(outliers.rejected().empty() && outliers.not_processed().empty());
  v1::InputRoomEventsResponse joined = Input({join.event}, v1::INPUT_KIND_NEW, true, ids_);
  EXPECT_TRUE(joined.rejected().empty() && joined.not_processed().empty()) << joined.DebugString();
  EXPECT_EQ(State(kRoom).size(), 6u);
}

TEST_F(OutOfBandMembershipTest, OnlyInvitesAndLeavesOfOurUsersAreRecorded) {
  BuildRemoteRoom("invite");
  matrix::BuiltEvent theirs = Build(kBob, "m.room.member", "@carol:remote.test",
                                    {{"membership", "invite"}}, remote_, "remote.test");
  EXPECT_EQ(Record(theirs.event).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  matrix::BuiltEvent join =
      Build(kAlice, "m.room.member", kAlice, {{"membership", "join"}}, key_, "rs.test");
  EXPECT_EQ(Record(join.event).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  matrix::BuiltEvent message =
      Build(kBob, "m.room.message", "", {{"body", "hi"}}, remote_, "remote.test");
  Json not_member = message.event;
  not_member.erase("state_key");
  EXPECT_EQ(Record(not_member).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(RoomKnown());
}

TEST_F(OutOfBandMembershipTest, InARoomWeAreInTheRoomsRulesDecideAndNothingIsStored) {
  AliceJoinsThePublicRoom();
  // Alice is joined: an invite of her is refused by the auth rules, and never stored.
  matrix::BuiltEvent invite =
      Build(kBob, "m.room.member", kAlice, {{"membership", "invite"}}, remote_, "remote.test");
  EXPECT_EQ(Record(invite.event).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // One the rules allow is accepted, and left to arrive through the room.
  matrix::BuiltEvent other = Build(kBob, "m.room.member", "@carol:rs.test",
                                   {{"membership", "invite"}}, remote_, "remote.test");
  ASSERT_TRUE(Record(other.event).ok());
  std::vector<v1::OutputEvent> output = ReadOutput(1);
  for (const auto& o : output) {
    EXPECT_NE(o.new_room_event().event_id(), invite.event_id);
    EXPECT_NE(o.new_room_event().event_id(), other.event_id);
  }
}

}  // namespace
}  // namespace periscope::roomserver
