// The roomserver over real gRPC, PostgreSQL and nats-server: rooms are created in the spec's
// order, events are built, authorised, stored and published to the output stream exactly once and
// in order, transaction ids make sends idempotent (also across a restart), and refused requests
// get Matrix errors and leave nothing behind; local peeks follow their rules, end on a join or when
// the room stops being peekable, and enter the output stream in order with the room's events.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "internal/roomserver/api/output_stream.h"
#include "internal/roomserver/output/outbox_relay.h"
#include "internal/roomserver/output/output_queue.h"
#include "internal/roomserver/perform/room_creator.h"
#include "internal/roomserver/roomserver_component.h"
#include "internal/roomserver/storage/pg_room_store.h"
#include "internal/roomserver/testing/roomserver_fixture.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/crypto/random.h"
#include "pkg/grpc/grpc_server.h"
#include "pkg/grpc/status_conversion.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/pg/migrations.h"
#include "pkg/status/matrix_status.h"
#include "pkg/stream/testing/fake_publisher.h"
#include "tests/testing/test_services.h"

namespace periscope::roomserver {
namespace {

using testing::kAlice;
using testing::kBob;
using testing::kServer;
using testing::RoomserverTest;

TEST_F(RoomserverTest, CreateRoomWritesTheSpecOrderAndPublishesIt) {
  v1::PerformCreateRoomRequest request;
  request.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
  request.set_name("Lobby");
  request.set_topic("Say hi");
  request.set_room_alias_name("lobby");
  request.add_invite(kBob);
  v1::StateEvent* extra = request.add_initial_state();
  extra->set_type("m.room.history_visibility");
  extra->set_content_json(R"({"history_visibility":"world_readable"})");
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom(request);
  ASSERT_TRUE(room.ok()) << room.status();
  EXPECT_EQ(room->room_alias(), "#lobby:rs.test");
  // The default room version (12): the room id is the create event's hash, no server.
  EXPECT_EQ(kDefaultRoomVersion, 12);
  EXPECT_EQ(room->room_id().find(':'), std::string::npos) << room->room_id();

  std::vector<v1::OutputEvent> output = ReadOutput(10);
  std::vector<std::string> types;
  for (const v1::OutputEvent& o : output) {
    ASSERT_TRUE(o.has_new_room_event());
    EXPECT_EQ(o.room_id(), room->room_id());
    matrix::Json event = *matrix::ParseJson(o.new_room_event().event_json());
    EXPECT_EQ(*matrix::ComputeEventId(event, 12), o.new_room_event().event_id());
    EXPECT_TRUE(
        matrix::VerifyEventSignature(event, kServer, key_.key_id, key_.public_key, 12).ok());
    if (event["type"] == "m.room.create") {
      EXPECT_EQ(o.new_room_event().event_id(), "$" + room->room_id().substr(1));
    }
    types.push_back(event["type"].get<std::string>() +
                    (event.contains("state_key") && !event["state_key"].get<std::string>().empty()
                         ? "/" + event["state_key"].get<std::string>()
                         : ""));
    EXPECT_EQ(event["depth"], static_cast<int>(types.size()));
  }
  std::vector<std::string> want = {"m.room.create",       "m.room.member/@alice:rs.test",
                                   "m.room.power_levels", "m.room.canonical_alias",
                                   "m.room.join_rules",   "m.room.history_visibility",
                                   "m.room.guest_access", "m.room.name",
                                   "m.room.topic",        "m.room.member/@bob:rs.test"};
  EXPECT_EQ(types, want);

  int found = 0;
  for (const matrix::Json& state : State(room->room_id())) {
    if (state["type"] == "m.room.history_visibility") {
      EXPECT_EQ(state["content"]["history_visibility"], "world_readable") << "initial_state wins";
      ++found;
    }
    if (state["type"] == "m.room.join_rules") {
      EXPECT_EQ(state["content"]["join_rule"], "public");
      ++found;
    }
  }
  EXPECT_EQ(found, 2);
}

TEST_F(RoomserverTest, MessagesChainAndTransactionsAreIdempotentAcrossRestarts) {
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom({});
  ASSERT_TRUE(room.ok()) << room.status();
  absl::StatusOr<std::string> first =
      Send(room->room_id(), kAlice, "m.room.message", R"({"body":"one","msgtype":"m.text"})", "t1");
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::string> again =
      Send(room->room_id(), kAlice, "m.room.message", R"({"body":"one","msgtype":"m.text"})", "t1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);

  StopRoomserver();
  StartRoomserver();
  absl::StatusOr<std::string> after_restart =
      Send(room->room_id(), kAlice, "m.room.message", R"({"body":"one","msgtype":"m.text"})", "t1");
  ASSERT_TRUE(after_restart.ok());
  EXPECT_EQ(*after_restart, *first);
  absl::StatusOr<std::string> second =
      Send(room->room_id(), kAlice, "m.room.message", R"({"body":"two"})", "t2");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*second, *first);

  // private_chat: 6 creation events (create, join, power levels, join rules, history
  // visibility, guest access), then exactly two messages, each once.
  std::vector<v1::OutputEvent> output = ReadOutput(8);
  ASSERT_EQ(output.size(), 8u);
  EXPECT_EQ(output[6].new_room_event().event_id(), *first);
  EXPECT_EQ(output[6].new_room_event().transaction_id(), "t1");
  EXPECT_EQ(output[6].new_room_event().device_id(), "DEV");
  EXPECT_EQ(output[7].new_room_event().event_id(), *second);
  matrix::Json second_event = *matrix::ParseJson(output[7].new_room_event().event_json());
  EXPECT_EQ(second_event["prev_events"], matrix::Json({*first}));
  EXPECT_EQ(second_event["depth"], 8);
  EXPECT_EQ(output[7].new_room_event().latest_event_ids_size(), 1);
}

TEST_F(RoomserverTest, NobodyCanReplaceARoomsCreateEvent) {
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom({});
  ASSERT_TRUE(room.ok());
  const std::string& id = room->room_id();
  std::string create_before;
  for (const matrix::Json& e : State(id)) {
    if (e["type"] == "m.room.create") create_before = e.dump();
  }
  ASSERT_FALSE(create_before.empty());
  // Not the creator (not even a member), nor the creator, with either state key.
  for (const char* sender : {kBob, kAlice}) {
    for (const char* key : {"", "x"}) {
      absl::Status s = Send(id, sender, "m.room.create",
                            absl::StrCat(R"({"creator":")", sender, R"(","room_version":"1"})"), "",
                            std::string(key))
                           .status();
      EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << sender << " " << key << s;
      EXPECT_EQ(MatrixErrcode(s), "M_FORBIDDEN");
    }
  }
  // Nor through createRoom's initial_state.
  v1::PerformCreateRoomRequest second_create;
  v1::StateEvent* initial = second_create.add_initial_state();
  initial->set_type("m.room.create");
  initial->set_content_json(R"({"creator":"@mallory:rs.test"})");
  EXPECT_EQ(MatrixErrcode(CreateRoom(second_create).status()), "M_FORBIDDEN");
  std::string create_after;
  int creates = 0;
  for (const matrix::Json& e : State(id)) {
    if (e["type"] == "m.room.create") {
      create_after = e.dump();
      ++creates;
    }
  }
  EXPECT_EQ(create_after, create_before);
  EXPECT_EQ(creates, 1);
}

TEST_F(RoomserverTest, RefusedRequestsGetMatrixErrorsAndLeaveNothing) {
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom({});
  ASSERT_TRUE(room.ok());
  const std::string& id = room->room_id();
  // Not in the room (rule 5), unknown room, power level too low for state (rule 7).
  EXPECT_EQ(MatrixErrcode(Send(id, kBob, "m.room.message", "{}").status()), "M_FORBIDDEN");
  EXPECT_EQ(MatrixErrcode(Send("!nope:rs.test", kAlice, "m.room.message", "{}").status()),
            "M_FORBIDDEN");
  // Bad input.
  EXPECT_EQ(MatrixErrcode(Send(id, kAlice, "m.room.message", R"({"n":1.5})").status()),
            "M_BAD_JSON");
  EXPECT_EQ(MatrixErrcode(Send(id, kAlice, "m.room.message", "[]").status()), "M_BAD_JSON");
  EXPECT_EQ(MatrixErrcode(Send(id, kAlice, "m.room.message", "{nope").status()), "M_NOT_JSON");
  EXPECT_EQ(MatrixErrcode(Send("room", kAlice, "m.room.message", "{}").status()),
            "M_INVALID_PARAM");
  EXPECT_EQ(MatrixErrcode(Send(id, kAlice, "", "{}").status()), "M_INVALID_PARAM");
  std::string big = R"({"body":")" + std::string(70000, 'x') + R"("})";
  EXPECT_EQ(MatrixErrcode(Send(id, kAlice, "m.room.message", big).status()), "M_TOO_LARGE");
  // A state key of another user (rule 8).
  absl::Status other_key = Send(id, kAlice, "m.custom", "{}", "", std::string(kBob)).status();
  EXPECT_EQ(MatrixErrcode(other_key), "M_FORBIDDEN");
  EXPECT_TRUE(absl::StrContains(other_key.message(), "auth rule 8")) << other_key;

  v1::PerformCreateRoomRequest bad_version;
  bad_version.set_room_version("99");
  EXPECT_EQ(MatrixErrcode(CreateRoom(bad_version).status()), "M_UNSUPPORTED_ROOM_VERSION");
  v1::PerformCreateRoomRequest bad_state;
  bad_state.add_initial_state()->set_content_json("{}");  // no type
  EXPECT_EQ(MatrixErrcode(CreateRoom(bad_state).status()), "M_INVALID_PARAM");
  v1::PerformCreateRoomRequest taken;
  taken.set_room_alias_name("dup");
  ASSERT_TRUE(CreateRoom(taken).ok());
  EXPECT_EQ(MatrixErrcode(CreateRoom(taken).status()), "M_ROOM_IN_USE");

  // Only the two successful rooms' 6 + 7 (with the alias) events were published: nothing
  // half-written.
  EXPECT_EQ(ReadOutput(13).size(), 13u);
}

TEST_F(RoomserverTest, RedactionsNeedOwnershipOrTheRedactLevel) {
  v1::PerformCreateRoomRequest request;
  request.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom(request);
  ASSERT_TRUE(room.ok());
  const std::string& id = room->room_id();
  ASSERT_TRUE(
      Send(id, kBob, "m.room.member", R"({"membership":"join"})", "", std::string(kBob)).ok());
  absl::StatusOr<std::string> alice_msg = Send(id, kAlice, "m.room.message", R"({"body":"a"})");
  absl::StatusOr<std::string> bob_msg = Send(id, kBob, "m.room.message", R"({"body":"b"})");
  ASSERT_TRUE(alice_msg.ok() && bob_msg.ok());
  EXPECT_TRUE(Send(id, kBob, "m.room.redaction", "{}", "", std::nullopt, *bob_msg).ok());
  EXPECT_EQ(MatrixErrcode(
                Send(id, kBob, "m.room.redaction", "{}", "", std::nullopt, *alice_msg).status()),
            "M_FORBIDDEN");
  EXPECT_TRUE(Send(id, kAlice, "m.room.redaction", "{}", "", std::nullopt, *bob_msg).ok());

  // A redaction takes effect on every read of the roomserver: the event and the current state.
  auto event_json = [&](const std::string& event_id) {
    v1::QueryEventsByIdRequest query;
    query.add_event_ids(event_id);
    grpc::ClientContext ctx;
    v1::QueryEventsByIdResponse response;
    EXPECT_TRUE(stub_->QueryEventsById(&ctx, query, &response).ok());
    return response.events_json_size() == 0 ? matrix::Json()
                                            : *matrix::ParseJson(response.events_json(0));
  };
  matrix::Json redacted = event_json(*bob_msg);
  EXPECT_EQ(redacted["content"], matrix::Json::object()) << redacted.dump();
  EXPECT_TRUE(redacted["unsigned"].contains("redacted_because")) << redacted.dump();
  EXPECT_EQ(event_json(*alice_msg)["content"]["body"], "a");  // the refused one is untouched
  absl::StatusOr<std::string> topic =
      Send(id, kAlice, "m.room.topic", R"({"topic":"secret plans"})", "", std::string(""));
  ASSERT_TRUE(topic.ok());
  ASSERT_TRUE(Send(id, kAlice, "m.room.redaction", "{}", "", std::nullopt, *topic).ok());
  for (const matrix::Json& e : State(id)) {
    if (e["type"] == "m.room.topic") {
      EXPECT_EQ(e["content"], matrix::Json::object()) << e.dump();
    }
  }
}

TEST_F(RoomserverTest, ARoomWriteNeverTakesASecondPoolConnection) {
  // With one connection in the pool, a write that asked the pool for another while holding the
  // room's transaction would wait for itself (here: until the acquire timeout, then fail).
  StopRoomserver();
  pool_size_ = 1;
  StartRoomserver();
  v1::PerformCreateRoomRequest request;
  request.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom(request);
  ASSERT_TRUE(room.ok()) << room.status();
  absl::StatusOr<std::string> msg =
      Send(room->room_id(), kAlice, "m.room.message", R"({"body":"a"})");
  ASSERT_TRUE(msg.ok()) << msg.status();
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> redaction =
      Send(room->room_id(), kAlice, "m.room.redaction", "{}", "", std::nullopt, *msg);
  EXPECT_TRUE(redaction.ok()) << redaction.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  ASSERT_TRUE(Member(kBob, room->room_id(), v1::MEMBERSHIP_ACTION_JOIN).ok());
  ASSERT_TRUE(Peek(kAlice, "P", room->room_id()).status().code() != absl::StatusCode::kUnavailable);
}

TEST_F(RoomserverTest, MembershipChangesFollowTheAuthRules) {
  constexpr char kCarol[] = "@carol:rs.test";
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom({});  // private: invite-only
  ASSERT_TRUE(room.ok());
  const std::string& id = room->room_id();
  auto errcode = [](const auto& result) { return MatrixErrcode(result.status()); };
  auto message = [](const auto& result) { return std::string(result.status().message()); };

  auto uninvited = Member(kBob, id, v1::MEMBERSHIP_ACTION_JOIN);
  EXPECT_EQ(errcode(uninvited), "M_FORBIDDEN");
  EXPECT_TRUE(absl::StrContains(message(uninvited), "auth rule 4.3.4")) << message(uninvited);
  ASSERT_TRUE(Member(kAlice, id, v1::MEMBERSHIP_ACTION_INVITE, kBob).ok());
  ASSERT_TRUE(Member(kBob, id, v1::MEMBERSHIP_ACTION_JOIN).ok());
  EXPECT_TRUE(Send(id, kBob, "m.room.message", R"({"body":"hi"})").ok());

  EXPECT_EQ(errcode(Member(kBob, id, v1::MEMBERSHIP_ACTION_KICK, kAlice)), "M_FORBIDDEN");
  EXPECT_EQ(errcode(Member(kAlice, id, v1::MEMBERSHIP_ACTION_KICK, kCarol)), "M_FORBIDDEN")
      << "carol is not in the room";
  ASSERT_TRUE(Member(kAlice, id, v1::MEMBERSHIP_ACTION_KICK, kBob).ok());
  EXPECT_EQ(errcode(Send(id, kBob, "m.room.message", "{}")), "M_FORBIDDEN");

  ASSERT_TRUE(Member(kAlice, id, v1::MEMBERSHIP_ACTION_BAN, kBob).ok());
  ASSERT_TRUE(Member(kAlice, id, v1::MEMBERSHIP_ACTION_INVITE, kCarol).ok());
  auto banned = Member(kAlice, id, v1::MEMBERSHIP_ACTION_INVITE, kBob);
  EXPECT_TRUE(absl::StrContains(message(banned), "auth rule 4.4.3")) << message(banned);
  EXPECT_EQ(errcode(Member(kAlice, id, v1::MEMBERSHIP_ACTION_UNBAN, kCarol)), "M_FORBIDDEN")
      << "carol is not banned";
  auto leave_banned = Member(kBob, id, v1::MEMBERSHIP_ACTION_LEAVE);
  EXPECT_TRUE(absl::StrContains(message(leave_banned), "auth rule 4.5.1")) << message(leave_banned);
  ASSERT_TRUE(Member(kAlice, id, v1::MEMBERSHIP_ACTION_UNBAN, kBob).ok());

  // Rejecting an invite, leaving twice.
  ASSERT_TRUE(Member(kCarol, id, v1::MEMBERSHIP_ACTION_LEAVE).ok());
  EXPECT_EQ(errcode(Member(kCarol, id, v1::MEMBERSHIP_ACTION_LEAVE)), "M_FORBIDDEN");

  // Joining a public room by its alias; unknown aliases and rooms.
  v1::PerformCreateRoomRequest pub;
  pub.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
  pub.set_room_alias_name("open");
  absl::StatusOr<v1::PerformCreateRoomResponse> open = CreateRoom(pub);
  ASSERT_TRUE(open.ok());
  auto by_alias = Member(kCarol, "#open:rs.test", v1::MEMBERSHIP_ACTION_JOIN);
  ASSERT_TRUE(by_alias.ok()) << by_alias.status();
  EXPECT_EQ(by_alias->room_id(), open->room_id());
  EXPECT_EQ(errcode(Member(kCarol, "#nope:rs.test", v1::MEMBERSHIP_ACTION_JOIN)), "M_NOT_FOUND");
  EXPECT_EQ(errcode(Member(kCarol, "!nope:rs.test", v1::MEMBERSHIP_ACTION_JOIN)), "M_NOT_FOUND");
  EXPECT_EQ(errcode(Member(kCarol, "nope", v1::MEMBERSHIP_ACTION_JOIN)), "M_INVALID_PARAM");
  EXPECT_EQ(errcode(Member(kCarol, id, v1::MEMBERSHIP_ACTION_INVITE, "bob")), "M_INVALID_PARAM");
  EXPECT_EQ(errcode(Member(kCarol, id, v1::MEMBERSHIP_ACTION_UNSPECIFIED)), "M_INVALID_PARAM");
}

TEST_F(RoomserverTest, QueriesAnswerAndUnknownRoomsAreNotFound) {
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom({});
  ASSERT_TRUE(room.ok());
  grpc::ClientContext ctx;
  v1::QueryRoomVersionRequest version_request;
  version_request.set_room_id(room->room_id());
  v1::QueryRoomVersionResponse version;
  ASSERT_TRUE(stub_->QueryRoomVersion(&ctx, version_request, &version).ok());
  EXPECT_EQ(version.room_version(), "12");

  grpc::ClientContext ctx2;
  version_request.set_room_id("!unknown:rs.test");
  grpc::Status missing = stub_->QueryRoomVersion(&ctx2, version_request, &version);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext ctx3;
  v1::QueryMembershipRequest membership_request;
  membership_request.set_room_id(room->room_id());
  membership_request.set_user_id(kAlice);
  v1::QueryMembershipResponse membership;
  ASSERT_TRUE(stub_->QueryMembership(&ctx3, membership_request, &membership).ok());
  EXPECT_TRUE(membership.room_exists());
  EXPECT_EQ(membership.membership(), v1::MEMBERSHIP_JOIN);

  grpc::ClientContext ctx4;
  v1::QueryEventsByIdRequest events_request;
  events_request.add_event_ids(membership.event_id());
  v1::QueryEventsByIdResponse events;
  ASSERT_TRUE(stub_->QueryEventsById(&ctx4, events_request, &events).ok());
  ASSERT_EQ(events.events_json_size(), 1);
  EXPECT_EQ((*matrix::ParseJson(events.events_json(0)))["type"], "m.room.member");

  grpc::ClientContext ctx5;
  events_request.add_event_ids("not-an-id");
  EXPECT_EQ(stub_->QueryEventsById(&ctx5, events_request, &events).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(RoomserverTest, LocalPeeksFollowTheRulesAndEnterTheStreamInOrder) {
  constexpr char kCarol[] = "@carol:rs.test";
  v1::PerformCreateRoomRequest request;
  request.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
  request.set_room_alias_name("open");
  v1::StateEvent* readable = request.add_initial_state();
  readable->set_type("m.room.history_visibility");
  readable->set_content_json(R"({"history_visibility":"world_readable"})");
  absl::StatusOr<v1::PerformCreateRoomResponse> room = CreateRoom(request);
  ASSERT_TRUE(room.ok()) << room.status();
  const std::string id = room->room_id();
  absl::StatusOr<v1::PerformCreateRoomResponse> closed = CreateRoom({});
  ASSERT_TRUE(closed.ok());

  const int64_t before = absl::ToUnixMillis(absl::Now());
  absl::StatusOr<v1::PerformPeekResponse> peek = Peek(kBob, "PHONE", id);
  ASSERT_TRUE(peek.ok()) << peek.status();
  EXPECT_EQ(peek->room_id(), id);
  EXPECT_GE(peek->peek_expiry_ts(), before + 1000);
  EXPECT_LE(peek->peek_expiry_ts(), absl::ToUnixMillis(absl::Now()) + 1000);
  absl::StatusOr<v1::PerformPeekResponse> by_alias = Peek(kBob, "LAPTOP", "#open:rs.test");
  ASSERT_TRUE(by_alias.ok()) << by_alias.status();
  EXPECT_EQ(by_alias->room_id(), id);
  EXPECT_EQ(Peekers(id), (std::vector<std::string>{"@bob:rs.test/LAPTOP", "@bob:rs.test/PHONE"}));

  // Refusals.
  auto code = [](const absl::Status& s) { return s.code(); };
  EXPECT_EQ(code(Peek(kAlice, "DEV", id).status()), absl::StatusCode::kFailedPrecondition)
      << "joined: M_BAD_STATE";
  EXPECT_EQ(MatrixErrcode(Peek(kAlice, "DEV", id).status()), "M_BAD_STATE");
  EXPECT_EQ(code(Peek(kBob, "PHONE", closed->room_id()).status()),
            absl::StatusCode::kPermissionDenied)
      << "shared history";
  EXPECT_EQ(code(Peek(kBob, "PHONE", "!nope:rs.test").status()), absl::StatusCode::kNotFound);
  absl::Status remote = Peek(kBob, "PHONE", "!far:elsewhere.test").status();
  EXPECT_EQ(code(remote), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(remote.message(), "other servers")) << remote;
  EXPECT_EQ(code(Peek(kBob, "PHONE", "#nope:rs.test").status()), absl::StatusCode::kNotFound);
  EXPECT_EQ(code(Peek(kBob, "PHONE", "nope").status()), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Peek(kBob, "", id).status()), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Unpeek(kCarol, "PHONE", id)), absl::StatusCode::kFailedPrecondition)
      << "no peek: M_BAD_STATE";

  // Unpeek; then a join ends the joiner's remaining peek.
  ASSERT_TRUE(Unpeek(kBob, "LAPTOP", id).ok());
  EXPECT_EQ(code(Unpeek(kBob, "LAPTOP", id)), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Member(kBob, id, v1::MEMBERSHIP_ACTION_JOIN).ok());
  EXPECT_TRUE(Peekers(id).empty()) << "bob joined: his peek ended";

  // A peek that syncapi reports expired is kept while its expiry is in the future (it was
  // renewed), and retired once it has passed.
  ASSERT_TRUE(Peek(kCarol, "PHONE", id).ok());
  ASSERT_TRUE(Unpeek(kCarol, "PHONE", id, v1::UNPEEK_REASON_EXPIRED).ok());
  EXPECT_EQ(Peekers(id), std::vector<std::string>{"@carol:rs.test/PHONE"});
  absl::SleepFor(absl::Milliseconds(1100));
  ASSERT_TRUE(Unpeek(kCarol, "PHONE", id, v1::UNPEEK_REASON_EXPIRED).ok());
  EXPECT_TRUE(Peekers(id).empty());

  // The room stops being world_readable: every peek ends.
  ASSERT_TRUE(Peek(kCarol, "PHONE", id).ok());
  ASSERT_TRUE(
      Send(id, kAlice, "m.room.history_visibility", R"({"history_visibility":"shared"})", "", "")
          .ok());
  EXPECT_TRUE(Peekers(id).empty());
  EXPECT_EQ(code(Peek(kCarol, "PHONE", id).status()), absl::StatusCode::kPermissionDenied);

  // The stream: each peek change right where it happened among the room's events.
  std::vector<std::string> seen;
  for (const v1::OutputEvent& o : ReadOutput(20)) {
    if (o.room_id() != id) continue;
    if (o.has_new_peek()) seen.push_back("peek " + o.new_peek().device_id());
    if (o.has_retire_peek()) {
      seen.push_back("unpeek " + o.retire_peek().device_id() + " " +
                     v1::UnpeekReason_Name(o.retire_peek().reason()));
    }
    if (o.has_new_room_event()) {
      matrix::Json event = *matrix::ParseJson(o.new_room_event().event_json());
      if (event["type"] == "m.room.member" && event["state_key"] == kBob)
        seen.push_back("bob joins");
      if (event["type"] == "m.room.history_visibility") {
        seen.push_back("visibility " + event["content"]["history_visibility"].get<std::string>());
      }
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "visibility world_readable",
                      "peek PHONE",
                      "peek LAPTOP",
                      "unpeek LAPTOP UNPEEK_REASON_CLIENT",
                      "bob joins",
                      "unpeek PHONE UNPEEK_REASON_JOINED",
                      "peek PHONE",
                      "unpeek PHONE UNPEEK_REASON_EXPIRED",
                      "peek PHONE",
                      "visibility shared",
                      "unpeek PHONE UNPEEK_REASON_NOT_PEEKABLE",
                  }));
}

// How many of the output messages are new message events (those with a body).
size_t MessagesIn(const std::vector<v1::OutputEvent>& output) {
  size_t n = 0;
  for (const v1::OutputEvent& o : output) {
    n += o.has_new_room_event() &&
         o.new_room_event().event_json().find("\"body\"") != std::string::npos;
  }
  return n;
}

TEST_F(RoomserverTest, ConcurrentSendsReachTheStreamExactlyOnceInRoomOrder) {
  // 20 rooms, 25 messages each, sent from 20 threads at once: every acknowledged event is in the
  // stream once, and each room's messages carry room_sequence 1, 2, 3, ... in stream order.
  constexpr int kRooms = 20;
  constexpr int kSends = 25;
  std::vector<std::string> rooms;
  for (int r = 0; r < kRooms; ++r) {
    auto room = CreateRoom({});
    ASSERT_TRUE(room.ok()) << room.status();
    rooms.push_back(room->room_id());
  }
  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  std::vector<std::thread> threads;
  for (int t = 0; t < kRooms; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSends; ++i) {
        // Thread t sends to rooms t, t+1, ... so that rooms see several writers at once.
        const std::string& room = rooms[(t + i) % kRooms];
        absl::StatusOr<std::string> id =
            Send(room, kAlice, "m.room.message", R"({"msgtype":"m.text","body":"x"})");
        EXPECT_TRUE(id.ok()) << id.status();
        absl::MutexLock lock(&mu);
        if (id.ok()) acknowledged.push_back(*id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kRooms * kSends));

  std::vector<v1::OutputEvent> output =
      ReadOutputUntil([&](const std::vector<v1::OutputEvent>& got) {
        return MessagesIn(got) >= acknowledged.size();
      });
  std::map<std::string, int64_t> last_sequence;
  std::map<std::string, int> seen;
  for (const v1::OutputEvent& o : output) {
    EXPECT_EQ(o.room_sequence(), last_sequence[o.room_id()] + 1) << o.room_id();
    last_sequence[o.room_id()] = o.room_sequence();
    if (o.has_new_room_event()) ++seen[o.new_room_event().event_id()];
  }
  for (const std::string& id : acknowledged) EXPECT_EQ(seen[id], 1) << id;
}

// Group commit: ten threads send to one room at once, so their writes queue behind each other and
// commit in batches. A third of the threads send as a stranger, refused inside the batch: a
// refusal undoes only itself. Two threads repeat each other's transaction ids: each id gets one
// event, whichever batch the two land in.
TEST_F(RoomserverTest, ConcurrentSendsToOneRoomCommitTogetherAndARefusalUndoesOnlyItself) {
  auto room = CreateRoom({});
  ASSERT_TRUE(room.ok()) << room.status();
  const std::string room_id = room->room_id();
  constexpr int kThreads = 9;
  constexpr int kSends = 20;
  absl::Mutex mu;
  std::map<std::string, std::set<std::string>> by_txn;
  std::set<std::string> acknowledged;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSends; ++i) {
        const std::string body =
            absl::StrCat(R"({"msgtype":"m.text","body":"t)", t, "-", i, R"("})");
        if (t % 3 == 2) {
          absl::StatusOr<std::string> refused =
              Send(room_id, "@stranger:test", "m.room.message", body);
          EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied)
              << refused.status();
          continue;
        }
        // Threads 3k and 3k+1 use the same transaction ids.
        const std::string txn = absl::StrCat("txn-", t / 3, "-", i);
        absl::StatusOr<std::string> id = Send(room_id, kAlice, "m.room.message", body, txn);
        EXPECT_TRUE(id.ok()) << id.status();
        absl::MutexLock lock(&mu);
        if (!id.ok()) continue;
        by_txn[txn].insert(*id);
        acknowledged.insert(*id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& [txn, ids] : by_txn) EXPECT_EQ(ids.size(), 1u) << txn;
  ASSERT_EQ(acknowledged.size(), static_cast<size_t>(kThreads / 3 * kSends));

  std::vector<v1::OutputEvent> output =
      ReadOutputUntil([&](const std::vector<v1::OutputEvent>& got) {
        return MessagesIn(got) >= acknowledged.size();
      });
  int64_t last_sequence = 0;
  std::map<std::string, int> seen;
  for (const v1::OutputEvent& o : output) {
    if (o.room_id() != room_id) continue;
    EXPECT_EQ(o.room_sequence(), last_sequence + 1);
    last_sequence = o.room_sequence();
    if (!o.has_new_room_event()) continue;
    EXPECT_EQ(o.new_room_event().event_json().find("@stranger:test"), std::string::npos);
    if (o.new_room_event().event_json().find("\"body\"") != std::string::npos) {
      ++seen[o.new_room_event().event_id()];
    }
  }
  EXPECT_EQ(seen.size(), acknowledged.size());
  for (const std::string& id : acknowledged) EXPECT_EQ(seen[id], 1) << id;
}

// A fresh database with the roomserver's schema, and a pool on it (null on failure), for tests of
// the store alone.
struct RoomserverDatabase {
  std::unique_ptr<periscope::testing::TestDatabase> db;
  std::unique_ptr<pg::Pool> pool;
};
RoomserverDatabase MigratedDatabase() {
  RoomserverDatabase out;
  auto db = periscope::testing::TestDatabase::Create();
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return out;
  auto pool = pg::Pool::Create({.dsn = (*db)->dsn(), .max_connections = 4});
  EXPECT_TRUE(pool.ok()) << pool.status();
  if (!pool.ok()) return out;
  absl::Status migrated = pg::ApplyMigrations(**pool, "roomserver", RoomserverMigrations());
  EXPECT_TRUE(migrated.ok()) << migrated;
  if (!migrated.ok()) return out;
  out.db = *std::move(db);
  out.pool = *std::move(pool);
  return out;
}

// An empty output message for the write's room.
absl::Status QueueEmptyOutput(RoomWriteTxn& txn) {
  v1::OutputEvent output;
  output.set_room_id(txn.room_id());
  return QueueOutput(txn, output);
}

// Holds a room's write turn with a write that waits, so that the writes started meanwhile queue
// behind it and go as one batch once it is released.
class HeldRoom {
 public:
  HeldRoom(PgRoomStore& store, std::string room) : store_(store), room_(std::move(room)) {
    leader_ = std::thread([this] {
      EXPECT_TRUE(store_
                      .Write(room_,
                             [this](RoomWriteTxn&) {
                               holding_.Notify();
                               release_.WaitForNotification();
                               return absl::OkStatus();
                             })
                      .ok());
    });
    holding_.WaitForNotification();
  }
  ~HeldRoom() { Release(); }

  void WaitForWaiting(size_t n) {
    for (absl::Time deadline = absl::Now() + absl::Seconds(10);
         store_.WritesWaiting(room_) < n && absl::Now() < deadline;) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_EQ(store_.WritesWaiting(room_), n);
  }

  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (leader_.joinable()) leader_.join();
  }

 private:
  PgRoomStore& store_;
  const std::string room_;
  absl::Notification holding_, release_;
  std::thread leader_;
};

// Group commit on PostgreSQL: while one write holds the room, a write that queues output and is
// then refused, and one that queues output and succeeds, wait behind it and go as one batch. The
// refused one leaves nothing: neither its output nor its room sequence.
TEST(GroupCommitOnPostgresTest, ARefusedWriteInABatchUndoesOnlyItsOwnWrites) {
  RoomserverDatabase database = MigratedDatabase();
  ASSERT_NE(database.pool, nullptr);
  PgRoomStore store(*database.pool);
  const std::string room = "!batch:test";
  ASSERT_TRUE(store.CreateRoom(room, 10, 0, [](RoomWriteTxn&) { return absl::OkStatus(); }).ok());
  HeldRoom held(store, room);
  absl::Status refused, accepted;
  std::thread refusing([&] {
    refused = store.Write(room, [&](RoomWriteTxn& txn) -> absl::Status {
      PERISCOPE_RETURN_IF_ERROR(QueueEmptyOutput(txn));
      return absl::PermissionDeniedError("refused after writing");
    });
  });
  held.WaitForWaiting(1);
  std::thread accepting([&] { accepted = store.Write(room, QueueEmptyOutput); });
  held.WaitForWaiting(2);
  held.Release();
  for (std::thread* t : {&refusing, &accepting}) t->join();
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << refused;
  EXPECT_TRUE(accepted.ok()) << accepted;
  absl::StatusOr<std::vector<OutboxEntry>> pending = store.PendingOutput({}, 10);
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().msg_id, room + "/1") << "the refused write's sequence was undone";
  EXPECT_EQ(*store.OutputSequence(room), 1);
}

// The same with a failure that only PostgreSQL sees, after the write's body returned: its
// statements are deferred (sent with the next read or the COMMIT), so a repeated transaction id
// fails when they are sent. That failure must be the write's own, undo only it, and leave the
// sequence the next write of the batch numbers from as it was.
TEST(GroupCommitOnPostgresTest, AWriteWhoseDeferredStatementFailsUndoesOnlyItself) {
  RoomserverDatabase database = MigratedDatabase();
  ASSERT_NE(database.pool, nullptr);
  PgRoomStore store(*database.pool);
  const std::string room = "!deferred:test";
  ASSERT_TRUE(store.CreateRoom(room, 10, 0, [](RoomWriteTxn&) { return absl::OkStatus(); }).ok());
  ASSERT_TRUE(store
                  .Write(room,
                         [&](RoomWriteTxn& txn) {
                           return txn.RecordTransaction("@a:test", "DEV", "txn-1", "$first");
                         })
                  .ok());
  HeldRoom held(store, room);
  absl::Status repeated, accepted;
  std::thread repeating([&] {
    repeated = store.Write(room, [&](RoomWriteTxn& txn) -> absl::Status {
      PERISCOPE_RETURN_IF_ERROR(QueueEmptyOutput(txn));
      return txn.RecordTransaction("@a:test", "DEV", "txn-1", "$second");  // already recorded
    });
  });
  held.WaitForWaiting(1);
  std::thread accepting([&] { accepted = store.Write(room, QueueEmptyOutput); });
  held.WaitForWaiting(2);
  held.Release();
  for (std::thread* t : {&repeating, &accepting}) t->join();
  EXPECT_EQ(repeated.code(), absl::StatusCode::kAlreadyExists) << repeated;
  EXPECT_TRUE(accepted.ok()) << accepted;
  absl::StatusOr<std::vector<OutboxEntry>> pending = store.PendingOutput({}, 10);
  ASSERT_TRUE(pending.ok()) << pending.status();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().msg_id, room + "/1") << "the failed write's sequence was undone";
  EXPECT_EQ(*store.OutputSequence(room), 1);
  absl::StatusOr<std::optional<std::string>> recorded =
      store.TransactionEventId("@a:test", "DEV", "txn-1");
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->value_or(""), "$first");
}

// Two roomservers (two stores, each with its own write queue) append to one room at once: the
// second to take the room's lock must see the extremities the first committed, or its event
// names an older one and the room forks for no reason.
TEST(RoomLockOnPostgresTest, AWriterThatWaitedForTheLockSeesTheExtremitiesCommittedMeanwhile) {
  RoomserverDatabase database = MigratedDatabase();
  ASSERT_NE(database.pool, nullptr);
  PgRoomStore first(*database.pool), second(*database.pool);
  const std::string room = "!twoprocesses:test";
  ASSERT_TRUE(first.CreateRoom(room, 10, 0, [](RoomWriteTxn&) { return absl::OkStatus(); }).ok());
  std::atomic<int> next_id{0};
  auto append_after_extremities = [&](RoomWriteTxn& txn) -> absl::Status {
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<matrix::PrevEvent> prevs, txn.ForwardExtremities());
    AcceptedEvent e;
    e.event_id = absl::StrCat("$e", next_id++);
    e.event_json = "{}";
    e.type = "m.room.message";
    e.sender = "@a:test";
    e.depth = 1;
    for (const matrix::PrevEvent& p : prevs) {
      e.prev_event_ids.push_back(p.event_id);
      e.depth = std::max(e.depth, p.depth + 1);
    }
    absl::SleepFor(absl::Milliseconds(1));  // hold the lock while the other waits for it
    return txn.AppendEvent(e);
  };
  std::vector<std::thread> writers;
  for (PgRoomStore* store : {&first, &second}) {
    writers.emplace_back([&, store] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE(store->Write(room, append_after_extremities).ok());
    });
  }
  for (std::thread& t : writers) t.join();
  std::vector<matrix::PrevEvent> extremities;
  ASSERT_TRUE(first
                  .Write(room,
                         [&](RoomWriteTxn& txn) -> absl::Status {
                           PERISCOPE_ASSIGN_OR_RETURN(extremities, txn.ForwardExtremities());
                           return absl::OkStatus();
                         })
                  .ok());
  ASSERT_EQ(extremities.size(), 1u) << "the room forked";
  EXPECT_EQ(extremities[0].depth, 50);
}

// Migration 5 moves each room's forward extremities from their own table into the room's row:
// none may be lost or invented on the way, and a room without any gets an empty list.
TEST(RoomserverMigrationTest, ExtremitiesMoveIntoTheRoomsRowWhole) {
  auto db = periscope::testing::TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status();
  auto pool = pg::Pool::Create({.dsn = (*db)->dsn(), .max_connections = 2});
  ASSERT_TRUE(pool.ok()) << pool.status();
  const std::vector<pg::Migration>& all = RoomserverMigrations();
  const std::vector<pg::Migration> before(all.begin(), all.begin() + 4);
  ASSERT_TRUE(pg::ApplyMigrations(**pool, "roomserver", before).ok());
  for (const char* sql :
       {"INSERT INTO roomserver_rooms (room_id, room_version, created_ts) VALUES "
        "('!forked:test', 10, 0), ('!one:test', 10, 0), ('!none:test', 10, 0)",
        "INSERT INTO roomserver_forward_extremities (room_id, event_id, depth) VALUES "
        "('!forked:test', '$a', 7), ('!forked:test', '$b', 9), ('!one:test', '$c', 3)"}) {
    ASSERT_TRUE((*pool)->Transaction([&](pg::Connection& c) { return c.Execute(sql); }).ok())
        << sql;
  }
  absl::Status migrated = pg::ApplyMigrations(**pool, "roomserver", all);
  ASSERT_TRUE(migrated.ok()) << migrated;
  PgRoomStore store(**pool);
  auto extremities = [&](const std::string& room) {
    std::set<std::pair<std::string, int64_t>> out;
    EXPECT_TRUE(store
                    .Write(room,
                           [&](RoomWriteTxn& txn) -> absl::Status {
                             PERISCOPE_ASSIGN_OR_RETURN(std::vector<matrix::PrevEvent> found,
                                                        txn.ForwardExtremities());
                             for (const matrix::PrevEvent& e : found) {
                               out.insert({e.event_id, e.depth});
                             }
                             return absl::OkStatus();
                           })
                    .ok());
    return out;
  };
  EXPECT_EQ(extremities("!forked:test"),
            (std::set<std::pair<std::string, int64_t>>{{"$a", 7}, {"$b", 9}}));
  EXPECT_EQ(extremities("!one:test"), (std::set<std::pair<std::string, int64_t>>{{"$c", 3}}));
  EXPECT_TRUE(extremities("!none:test").empty());
}

// The outbox's gauges: how many messages wait, and how long the oldest has (so that an outage
// under little traffic, which never makes the outbox deep, still shows).
TEST(OutboxDepthOnPostgresTest, TheOutboxTellsItsDepthAndTheAgeOfItsOldestMessage) {
  RoomserverDatabase database = MigratedDatabase();
  ASSERT_NE(database.pool, nullptr);
  PgRoomStore store(*database.pool);
  const std::string room = "!depth:test";
  ASSERT_TRUE(store.CreateRoom(room, 10, 0, [](RoomWriteTxn&) { return absl::OkStatus(); }).ok());
  absl::StatusOr<OutboxDepth> empty = store.Depth();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->messages, 0);
  EXPECT_EQ(empty->oldest_seconds, 0);
  ASSERT_TRUE(store.Write(room, QueueEmptyOutput).ok());
  absl::SleepFor(absl::Milliseconds(1200));
  absl::StatusOr<OutboxDepth> waiting = store.Depth();
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  EXPECT_EQ(waiting->messages, 1);
  EXPECT_GE(waiting->oldest_seconds, 1.0);
  EXPECT_LT(waiting->oldest_seconds, 60.0);
  absl::StatusOr<std::vector<OutboxEntry>> pending = store.PendingOutput({}, 10);
  ASSERT_TRUE(pending.ok() && pending->size() == 1u);
  ASSERT_TRUE(store.MarkOutputPublished({pending->front().position}).ok());
  absl::StatusOr<OutboxDepth> drained = store.Depth();
  ASSERT_TRUE(drained.ok()) << drained.status();
  EXPECT_EQ(drained->messages, 0);
  EXPECT_EQ(drained->oldest_seconds, 0);
}

// The relay against real PostgreSQL: room A's transaction takes the lower outbox position but
// commits while the relay is publishing room B's message. A's message must still be published.
TEST(OutboxRelayOnPostgresTest, AnEarlierTransactionCommittingDuringARunIsNotLost) {
  RoomserverDatabase database = MigratedDatabase();
  ASSERT_NE(database.pool, nullptr);
  PgRoomStore store(*database.pool);
  stream::testing::FakePublisher stream;
  OutboxRelay relay(store, stream, "out");
  auto no_op = [](RoomWriteTxn&) { return absl::OkStatus(); };
  ASSERT_TRUE(store.CreateRoom("!a:rs.test", 10, 0, no_op).ok());
  ASSERT_TRUE(store.CreateRoom("!b:rs.test", 10, 0, no_op).ok());

  absl::Notification a_enqueued, a_may_commit;
  std::thread room_a([&] {
    absl::Status s = store.Write("!a:rs.test", [&](RoomWriteTxn& txn) {
      absl::Status q = txn.EnqueueOutput("$a", "a", "payload-a");
      a_enqueued.Notify();
      a_may_commit.WaitForNotification();
      return q;
    });
    EXPECT_TRUE(s.ok()) << s;
  });
  a_enqueued.WaitForNotification();
  ASSERT_TRUE(
      store
          .Write("!b:rs.test",
                 [](RoomWriteTxn& txn) { return txn.EnqueueOutput("$b", "b", "payload-b"); })
          .ok());
  // While the relay publishes B (after it read the outbox), A commits.
  stream.OnPublish([&] {
    a_may_commit.Notify();
    room_a.join();
  });
  ASSERT_TRUE(relay.PublishPending().ok());
  stream.OnPublish(nullptr);
  ASSERT_TRUE(relay.PublishPending().ok());
  std::vector<std::string> ids;
  for (const auto& p : stream.published()) ids.push_back(p.msg_id);
  EXPECT_EQ(ids, std::vector<std::string>({"$b", "$a"}));
  auto left = store.PendingOutput({}, 10);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

}  // namespace
}  // namespace periscope::roomserver
