// The room as a DAG, on a real roomserver (gRPC, PostgreSQL, nats-server): a room forks when a
// remote server's users write on two branches at once, the branches are resolved (state
// resolution v2) into the current state and the state at every event, a local send merges them,
// and all of it survives a restart. Events that must not count do not: a soft-failed event stays
// out of the extremities, a rejected one out of every state, and an event with unknown prev
// events leaves nothing behind.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "internal/roomserver/testing/remote_server.h"
#include "internal/roomserver/testing/roomserver_fixture.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"

namespace periscope::roomserver {
namespace {

using testing::kAlice;

constexpr char kRemote[] = "remote.test";
constexpr char kBob[] = "@bob:remote.test";
constexpr char kCarol[] = "@carol:remote.test";

class RoomDagTest : public testing::RoomserverTest {
 protected:
  void SetUp() override {
    RoomserverTest::SetUp();
    remote_ = std::make_unique<testing::RemoteServer>(kRemote, *stub_);
  }
  void StartRoomserver() {
    RoomserverTest::StartRoomserver();
    remote_ = std::make_unique<testing::RemoteServer>(kRemote, *stub_);
  }

  absl::StatusOr<v1::QueryStateAtEventResponse> StateAt(const std::string& event_id, bool after,
                                                        bool events = false) {
    v1::QueryStateAtEventRequest request;
    request.set_room_id(room_);
    request.set_event_id(event_id);
    request.set_after(after);
    request.set_include_events(events);
    grpc::ClientContext ctx;
    v1::QueryStateAtEventResponse response;
    grpc::Status status = stub_->QueryStateAtEvent(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return response;
  }

  // (type, state_key) -> event id of the state at an event.
  std::map<matrix::StateKey, std::string> StateMapAt(const std::string& event_id, bool after) {
    absl::StatusOr<v1::QueryStateAtEventResponse> state = StateAt(event_id, after, true);
    EXPECT_TRUE(state.ok()) << state.status();
    std::map<matrix::StateKey, std::string> out;
    if (!state.ok()) return out;
    for (int i = 0; i < state->state_event_ids_size(); ++i) {
      matrix::Json event = *matrix::ParseJson(state->state_events_json(i));
      out[{matrix::StringField(event, "type"), matrix::StringField(event, "state_key")}] =
          state->state_event_ids(i);
    }
    return out;
  }

  // The current state of a room version 12 room (its events hash as version 11's).
  std::map<matrix::StateKey, std::string> CurrentStateMap12() { return CurrentStateMap(12); }

  matrix::Json EventJson(const std::string& event_id) {
    v1::QueryEventsByIdRequest request;
    request.add_event_ids(event_id);
    grpc::ClientContext ctx;
    v1::QueryEventsByIdResponse response;
    EXPECT_TRUE(stub_->QueryEventsById(&ctx, request, &response).ok());
    if (response.events_json_size() == 0) return matrix::Json();
    return *matrix::ParseJson(response.events_json(0));
  }

  std::map<matrix::StateKey, std::string> CurrentStateMap(int version = 10) {
    std::map<matrix::StateKey, std::string> out;
    v1::QueryCurrentStateRequest request;
    request.set_room_id(room_);
    grpc::ClientContext ctx;
    v1::QueryCurrentStateResponse response;
    EXPECT_TRUE(stub_->QueryCurrentState(&ctx, request, &response).ok());
    for (int i = 0; i < response.state_json_size(); ++i) {
      matrix::Json event = *matrix::ParseJson(response.state_json(i));
      out[{matrix::StringField(event, "type"), matrix::StringField(event, "state_key")}] =
          *matrix::ComputeEventId(event, version);
    }
    return out;
  }

  using Built = testing::RemoteServer::Event;
  Built Remote(const std::string& sender, const std::string& type,
               std::optional<std::string> state_key, matrix::Json content, const std::string& prev,
               int64_t ts) {
    return remote_->Build(room_, sender, type, std::move(state_key), std::move(content), prev, ts);
  }
  v1::InputRoomEventsResponse Input(const std::vector<Built>& events) {
    return remote_->Send(events);
  }

  std::string LocalSend(const std::string& type, const std::string& content,
                        std::optional<std::string> state_key = std::nullopt) {
    absl::StatusOr<std::string> id = Send(room_, kAlice, type, content, "", state_key);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : "";
  }

  std::vector<std::string> PrevEventsOf(const std::string& event_id) {
    v1::QueryEventsByIdRequest request;
    request.add_event_ids(event_id);
    grpc::ClientContext ctx;
    v1::QueryEventsByIdResponse response;
    EXPECT_TRUE(stub_->QueryEventsById(&ctx, request, &response).ok());
    std::vector<std::string> out;
    if (response.events_json_size() == 0) return out;
    const matrix::Json event = *matrix::ParseJson(response.events_json(0));
    for (const matrix::Json& prev : event["prev_events"]) {
      out.push_back(prev.get<std::string>());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<testing::RemoteServer> remote_;
  std::string room_;
};

const matrix::StateKey kTopic{"m.room.topic", ""};
const matrix::StateKey kPowerLevels{"m.room.power_levels", ""};

TEST_F(RoomDagTest, AForkIsResolvedMergedByALocalSendAndSurvivesARestart) {
  v1::PerformCreateRoomRequest create;
  create.set_room_version("10");  // state resolution v2; the v12 test below covers v2.1
  create.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom(create);
  ASSERT_TRUE(room.ok()) << room.status();
  room_ = room->room_id();
  // Bob (50) and Carol (100) are users of another server.
  std::string p1 =
      LocalSend("m.room.power_levels",
                matrix::Json{{"users", {{kAlice, 100}, {kBob, 50}, {kCarol, 100}}}}.dump(), "");
  ASSERT_EQ(PrevEventsOf(p1).size(), 1u);
  Built bob_join = Remote(kBob, "m.room.member", kBob, {{"membership", "join"}}, p1, 100);
  v1::InputRoomEventsResponse joined = Input({bob_join});
  ASSERT_TRUE(joined.rejected().empty() && joined.not_processed().empty()) << joined.DebugString();
  Built carol_join =
      Remote(kCarol, "m.room.member", kCarol, {{"membership", "join"}}, bob_join.id, 200);
  joined = Input({carol_join});
  ASSERT_TRUE(joined.rejected().empty() && joined.not_processed().empty()) << joined.DebugString();

  // Two branches from Carol's join: Carol's topic A, then Bob's topic B (later timestamp).
  Built topic_a = Remote(kCarol, "m.room.topic", "", {{"topic", "A"}}, carol_join.id, 1000);
  Built topic_b = Remote(kBob, "m.room.topic", "", {{"topic", "B"}}, carol_join.id, 2000);
  v1::InputRoomEventsResponse forked = Input({topic_a, topic_b});
  EXPECT_TRUE(forked.rejected().empty() && forked.not_processed().empty() &&
              forked.soft_failed_event_ids().empty())
      << forked.DebugString();
  // Both are extremities; with the same power levels behind them, the later topic wins.
  EXPECT_EQ(CurrentStateMap()[kTopic], topic_b.id);
  EXPECT_EQ(StateMapAt(topic_a.id, true)[kTopic], topic_a.id);
  EXPECT_EQ(StateMapAt(topic_b.id, true)[kTopic], topic_b.id);
  EXPECT_EQ(StateMapAt(topic_b.id, false)[kTopic], StateMapAt(carol_join.id, true)[kTopic]);

  // On A's branch Carol takes Bob's power away. Now Bob's topic fails the resolution's checks,
  // and the room's topic goes back to A although B is newer.
  Built demote = Remote(kCarol, "m.room.power_levels", "",
                        {{"users", {{kAlice, 100}, {kBob, 0}, {kCarol, 100}}}}, topic_a.id, 3000);
  v1::InputRoomEventsResponse demoted = Input({demote});
  EXPECT_TRUE(demoted.rejected().empty() && demoted.soft_failed_event_ids().empty())
      << demoted.DebugString();
  std::map<matrix::StateKey, std::string> current = CurrentStateMap();
  EXPECT_EQ(current[kTopic], topic_a.id);
  EXPECT_EQ(current[kPowerLevels], demote.id);

  // The output stream said so: the demotion's message brings topic A back and takes B out.
  std::vector<v1::OutputEvent> output = ReadOutputUntil([&](const auto& got) {
    for (const v1::OutputEvent& e : got) {
      if (e.new_room_event().event_id() == demote.id) return true;
    }
    return false;
  });
  const v1::NewRoomEvent* demotion = nullptr;
  for (const v1::OutputEvent& e : output) {
    if (e.new_room_event().event_id() == demote.id) demotion = &e.new_room_event();
  }
  ASSERT_NE(demotion, nullptr);
  std::vector<std::string> adds(demotion->adds_state_event_ids().begin(),
                                demotion->adds_state_event_ids().end());
  std::vector<std::string> removes(demotion->removes_state_event_ids().begin(),
                                   demotion->removes_state_event_ids().end());
  std::sort(adds.begin(), adds.end());
  std::sort(removes.begin(), removes.end());
  std::vector<std::string> want_adds = {demote.id, topic_a.id};
  std::vector<std::string> want_removes = {p1, topic_b.id};
  std::sort(want_adds.begin(), want_adds.end());
  std::sort(want_removes.begin(), want_removes.end());
  EXPECT_EQ(adds, want_adds);
  EXPECT_EQ(removes, want_removes);
  EXPECT_EQ(demotion->latest_event_ids_size(), 2);

  // Carol talks on B's branch: the current state is still the resolution of both branches, not
  // the state after the newest event (which still has topic B and the old power levels).
  Built chat = Remote(kCarol, "m.room.message", std::nullopt, {{"body", "on B"}}, topic_b.id, 3500);
  v1::InputRoomEventsResponse chatted = Input({chat});
  EXPECT_TRUE(chatted.rejected().empty() && chatted.soft_failed_event_ids().empty())
      << chatted.DebugString();
  EXPECT_EQ(StateMapAt(chat.id, true)[kTopic], topic_b.id);
  EXPECT_EQ(CurrentStateMap(), current);

  // Alice's message names both branches and merges them; its state is the resolution.
  std::string merge = LocalSend("m.room.message", R"({"msgtype":"m.text","body":"merged"})");
  std::vector<std::string> want_prevs = {demote.id, chat.id};
  std::sort(want_prevs.begin(), want_prevs.end());
  EXPECT_EQ(PrevEventsOf(merge), want_prevs);
  EXPECT_EQ(StateMapAt(merge, false), current);
  EXPECT_EQ(StateMapAt(merge, true), current);

  // Bob, on his own branch, writes as if nothing happened: the event passes against the state
  // before it (where he still has 50) but not against the current state, so it soft-fails. It
  // is stored, but it is not an extremity and changes nothing.
  Built late_topic = Remote(kBob, "m.room.topic", "", {{"topic", "late"}}, chat.id, 4000);
  v1::InputRoomEventsResponse late = Input({late_topic});
  ASSERT_EQ(late.soft_failed_event_ids_size(), 1) << late.DebugString();
  EXPECT_EQ(late.soft_failed_event_ids(0), late_topic.id);
  EXPECT_EQ(CurrentStateMap(), current);
  std::string after_late = LocalSend("m.room.message", R"({"msgtype":"m.text","body":"x"})");
  EXPECT_EQ(PrevEventsOf(after_late), std::vector<std::string>{merge});

  // Bob raising himself back to 100 is refused by the auth rules: stored as rejected, in no state.
  Built grab = Remote(kBob, "m.room.power_levels", "",
                      {{"users", {{kAlice, 100}, {kBob, 100}, {kCarol, 100}}}}, after_late, 5000);
  v1::InputRoomEventsResponse grabbed = Input({grab});
  ASSERT_EQ(grabbed.rejected().count(grab.id), 1u) << grabbed.DebugString();
  EXPECT_EQ(CurrentStateMap(), current);
  EXPECT_EQ(StateMapAt(grab.id, true)[kPowerLevels], demote.id) << "a rejected event's state after "
                                                                   "is its state before";

  // An event whose prev event is unknown is not processed, and nothing of it is kept.
  Built orphan = Remote(kCarol, "m.room.topic", "", {{"topic", "?"}}, after_late, 6000);
  matrix::Json orphan_json = *matrix::ParseJson(orphan.json);
  orphan_json["prev_events"] = {"$unknown"};
  orphan.json = *matrix::EncodeCanonicalJson(orphan_json);
  orphan.id = *matrix::ComputeEventId(orphan_json, 10);
  v1::InputRoomEventsResponse orphaned = Input({orphan});
  EXPECT_EQ(orphaned.not_processed().count(orphan.id), 1u);
  EXPECT_EQ(StateAt(orphan.id, false).status().code(), absl::StatusCode::kNotFound);

  // A restart keeps all of it, and the next local send follows the one extremity.
  StopRoomserver();
  StartRoomserver();
  EXPECT_EQ(CurrentStateMap(), current);
  EXPECT_EQ(StateMapAt(topic_b.id, true)[kTopic], topic_b.id);
  EXPECT_EQ(StateMapAt(merge, false), current);
  std::string after_restart = LocalSend("m.room.message", R"({"msgtype":"m.text","body":"y"})");
  EXPECT_EQ(PrevEventsOf(after_restart), std::vector<std::string>{after_late});
}

// Room version 12: the room id is the create event's hash, the create event is implied rather
// than listed in auth_events, and the creators (the sender, and a trusted private chat's invitees
// as additional_creators) have infinite power without a power-levels entry. A fork in such a room
// resolves with state resolution v2.1.
TEST_F(RoomDagTest, RoomVersion12RoomsAreNamedByTheirCreateEventAndResolveWithV21) {
  v1::PerformCreateRoomRequest create;
  create.set_room_version("12");
  create.set_preset(v1::ROOM_PRESET_TRUSTED_PRIVATE_CHAT);
  create.add_invite(testing::kBob);
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom(create);
  ASSERT_TRUE(room.ok()) << room.status();
  room_ = room->room_id();
  EXPECT_EQ(room_.find(':'), std::string::npos) << room_;

  std::map<matrix::StateKey, std::string> state = CurrentStateMap12();
  const std::string create_id = state[{"m.room.create", ""}];
  EXPECT_EQ(create_id, "$" + room_.substr(1));
  matrix::Json create_event = EventJson(create_id);
  EXPECT_FALSE(create_event.contains("room_id"));
  EXPECT_EQ(create_event["content"]["additional_creators"], matrix::Json::array({testing::kBob}));
  matrix::Json levels = EventJson(state[kPowerLevels]);
  EXPECT_TRUE(levels["content"]["users"].empty()) << "creators are never listed";
  for (const matrix::Json& auth : levels["auth_events"]) EXPECT_NE(auth, create_id);

  // Alice, a creator, sets a level for Carol; listing a creator is refused (rule 10.4).
  EXPECT_TRUE(Send(room_, kAlice, "m.room.power_levels",
                   matrix::Json{{"users", {{kCarol, 100}}}}.dump(), "", "")
                  .ok());
  absl::StatusOr<std::string> listed =
      Send(room_, kAlice, "m.room.power_levels", matrix::Json{{"users", {{kAlice, 100}}}}.dump(),
           "", "");
  EXPECT_EQ(listed.status().code(), absl::StatusCode::kPermissionDenied);

  // Alice invites Carol (another server, 100), who joins and sets the topic twice on two
  // branches; the later one wins (same power, same mainline), through v2.1.
  v1::PerformMembershipRequest invite;
  invite.set_sender(kAlice);
  invite.set_room_id_or_alias(room_);
  invite.set_action(v1::MEMBERSHIP_ACTION_INVITE);
  invite.set_target_user_id(kCarol);
  grpc::ClientContext ctx;
  v1::PerformMembershipResponse invited;
  ASSERT_TRUE(stub_->PerformMembership(&ctx, invite, &invited).ok());
  std::string after_invite = CurrentStateMap12()[{"m.room.member", kCarol}];
  auto carol_join = remote_->Build(room_, kCarol, "m.room.member", kCarol, {{"membership", "join"}},
                                   after_invite, 200, 12);
  ASSERT_TRUE(testing::RemoteServer::AllAccepted(remote_->Send({carol_join})));
  auto first =
      remote_->Build(room_, kCarol, "m.room.topic", "", {{"topic", "1"}}, carol_join.id, 1000, 12);
  auto second =
      remote_->Build(room_, kCarol, "m.room.topic", "", {{"topic", "2"}}, carol_join.id, 2000, 12);
  v1::InputRoomEventsResponse forked = remote_->Send({second, first});
  EXPECT_TRUE(testing::RemoteServer::AllAccepted(forked)) << forked.DebugString();
  EXPECT_EQ(CurrentStateMap12()[kTopic], second.id);
  std::string merge = LocalSend("m.room.message", R"({"msgtype":"m.text","body":"v12"})");
  EXPECT_EQ(PrevEventsOf(merge).size(), 2u);
  EXPECT_EQ(StateMapAt(merge, false)[kTopic], second.id);
}

// What federation input must not do, whatever a remote server sends: report a rejected or
// soft-failed event as accepted when it comes again, leave a rejected event unstored (so that its
// children can never be placed), do unbounded work for one PDU, or store a truncated field.
TEST_F(RoomDagTest, HostileInputsAreRefusedAndRecordedNotTrusted) {
  v1::PerformCreateRoomRequest create;
  create.set_room_version("10");
  create.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom(create);
  ASSERT_TRUE(room.ok()) << room.status();
  room_ = room->room_id();
  std::string levels = LocalSend("m.room.power_levels",
                                 matrix::Json{{"users", {{kAlice, 100}, {kBob, 0}}}}.dump(), "");
  Built join = Remote(kBob, "m.room.member", kBob, {{"membership", "join"}}, levels, 100);
  ASSERT_TRUE(testing::RemoteServer::AllAccepted(Input({join})));

  // Bob (0) may not set the topic: rejected, and rejected again when sent again.
  Built topic = Remote(kBob, "m.room.topic", "", {{"topic", "mine"}}, join.id, 200);
  EXPECT_EQ(Input({topic}).rejected().count(topic.id), 1u);
  EXPECT_EQ(Input({topic}).rejected().count(topic.id), 1u) << "a retry is not an acceptance";
  // The rejected event is stored, so an event naming it can be placed (with the state before it).
  Built after = Remote(kBob, "m.room.message", std::nullopt, {{"body", "x"}}, topic.id, 300);
  v1::InputRoomEventsResponse placed = Input({after});
  EXPECT_TRUE(testing::RemoteServer::AllAccepted(placed)) << placed.DebugString();
  EXPECT_EQ(StateMapAt(after.id, false)[kTopic], StateMapAt(join.id, true)[kTopic]);

  // An auth event that is not a state event: rejected, and still stored for its children.
  matrix::Json bad_auth = *matrix::ParseJson(
      Remote(kBob, "m.room.message", std::nullopt, {{"body", "y"}}, after.id, 400).json);
  bad_auth["auth_events"].push_back(after.id);
  Built forged{*matrix::ComputeEventId(bad_auth, 10), *matrix::EncodeCanonicalJson(bad_auth)};
  EXPECT_EQ(Input({forged}).rejected().count(forged.id), 1u);
  EXPECT_TRUE(StateAt(forged.id, false).ok()) << "stored, with its state";

  // Past the sanity limits (21 prev_events): rejected without resolving 21 states, kept as an
  // outlier.
  matrix::Json wide = *matrix::ParseJson(
      Remote(kBob, "m.room.message", std::nullopt, {{"body", "z"}}, after.id, 500).json);
  for (int i = 0; i < 20; ++i) wide["prev_events"].push_back(absl::StrCat("$p", i));
  Built many{*matrix::ComputeEventId(wide, 10), *matrix::EncodeCanonicalJson(wide)};
  EXPECT_EQ(Input({many}).rejected().count(many.id), 1u);
  EXPECT_EQ(StateAt(many.id, false).status().code(), absl::StatusCode::kFailedPrecondition);

  // A NUL in a field stored as a column is refused, not truncated.
  matrix::Json nul = *matrix::ParseJson(
      Remote(kBob, "m.room.member", kBob, {{"membership", "join"}}, after.id, 600).json);
  nul["state_key"] = std::string("@bob:remote.test\0@alice", 24);
  Built truncated{*matrix::ComputeEventId(nul, 10), *matrix::EncodeCanonicalJson(nul)};
  EXPECT_EQ(Input({truncated}).rejected().count(truncated.id), 1u);

  // An input without a kind is not processed, and leaves nothing.
  Built unsure = Remote(kBob, "m.room.message", std::nullopt, {{"body", "?"}}, after.id, 700);
  v1::InputRoomEventsRequest request;
  request.add_events()->set_event_json(unsure.json);
  grpc::ClientContext ctx;
  v1::InputRoomEventsResponse response;
  ASSERT_TRUE(stub_->InputRoomEvents(&ctx, request, &response).ok());
  EXPECT_EQ(response.not_processed().count(unsure.id), 1u);
  EXPECT_EQ(StateAt(unsure.id, false).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RoomDagTest, StateAtAnUnknownEventIsNotFoundAndBadIdsAreRefused) {
  v1::PerformCreateRoomRequest create;
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom(create);
  ASSERT_TRUE(room.ok()) << room.status();
  room_ = room->room_id();
  EXPECT_EQ(StateAt("$nope", false).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(StateAt("not an id", false).status().code(), absl::StatusCode::kInvalidArgument);
  // A malformed input is rejected by its index, not a crash.
  v1::InputRoomEventsRequest request;
  request.add_events()->set_event_json("{not json");
  grpc::ClientContext ctx;
  v1::InputRoomEventsResponse response;
  ASSERT_TRUE(stub_->InputRoomEvents(&ctx, request, &response).ok());
  EXPECT_EQ(response.rejected().count("input[0]"), 1u);
}

}  // namespace
}  // namespace periscope::roomserver
