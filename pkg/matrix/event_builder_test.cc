// Building events: auth event selection from state, prev_events and depth, redacts placement,
// hashes and signatures that verify, and the PDU size limits.

#include "pkg/matrix/event_builder.h"

#include "gtest/gtest.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

constexpr char kRoom[] = "!r:a.test";
constexpr char kAlice[] = "@alice:a.test";

SigningKey Key() {
  return *ParseSigningKey("ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
}

ProtoEvent Proto(absl::string_view type, Json content, std::optional<std::string> state_key) {
  ProtoEvent proto;
  proto.room_id = kRoom;
  proto.sender = kAlice;
  proto.type = std::string(type);
  proto.state_key = std::move(state_key);
  proto.content = content.is_null() ? Json::object() : std::move(content);
  proto.origin_server_ts = 1700000000000;
  return proto;
}

// Creates a room the way the roomserver will: create, creator join, power levels, join rules,
// each built from the state so far and checked by the auth rules.
struct Room {
  AuthEvents state;
  std::vector<PrevEvent> extremities;

  BuiltEvent Send(const ProtoEvent& proto, int version = 10) {
    absl::StatusOr<BuiltEvent> built =
        BuildEvent(proto, state, extremities, version, "a.test", Key());
    EXPECT_TRUE(built.ok()) << built.status();
    EXPECT_TRUE(CheckAuthRules(built->event, state, version).ok())
        << CheckAuthRules(built->event, state, version);
    if (built->event.contains("state_key")) {
      EXPECT_TRUE(state.Put(built->event_id, built->event).ok());
    }
    extremities = {{built->event_id, built->event["depth"].get<int64_t>()}};
    return *built;
  }
};

Room CreatedRoom(int version = 10) {
  Room room;
  Json create_content = {{"room_version", std::to_string(version)}};
  if (version < 11) create_content["creator"] = kAlice;
  room.Send(Proto("m.room.create", create_content, ""), version);
  room.Send(Proto("m.room.member", {{"membership", "join"}}, kAlice), version);
  room.Send(Proto("m.room.power_levels", {{"users", {{kAlice, 100}}}}, ""), version);
  room.Send(Proto("m.room.join_rules", {{"join_rule", "public"}}, ""), version);
  return room;
}

TEST(EventBuilderTest, CreateEventHasNoParentsAndDepthOne) {
  Room room;
  BuiltEvent create =
      room.Send(Proto("m.room.create", {{"creator", kAlice}, {"room_version", "10"}}, ""));
  EXPECT_EQ(create.event["depth"], 1);
  EXPECT_TRUE(create.event["prev_events"].empty());
  EXPECT_TRUE(create.event["auth_events"].empty());
  EXPECT_EQ(create.event["origin"], "a.test");
  EXPECT_FALSE(create.event.contains("event_id"));
  EXPECT_EQ(create.event_id, *ComputeEventId(create.event, 10));
  EXPECT_TRUE(VerifyEventSignature(create.event, "a.test", "ed25519:1", Key().public_key, 10).ok());
  EXPECT_EQ(create.event["hashes"]["sha256"], *ContentHash(create.event));
}

TEST(EventBuilderTest, ARoomVersion12CreateEventHasNoRoomIdAndNamesTheRoom) {
  ProtoEvent proto = Proto("m.room.create", {{"room_version", "12"}}, "");
  proto.room_id.clear();
  AuthEvents none;
  absl::StatusOr<BuiltEvent> create = BuildEvent(proto, none, {}, 12, "a.test", Key());
  ASSERT_TRUE(create.ok()) << create.status();
  EXPECT_FALSE(create->event.contains("room_id"));
  EXPECT_TRUE(CheckAuthRules(create->event, none, 12).ok());
  const std::string room_id = RoomIdOfCreateEvent(create->event_id);
  EXPECT_EQ(CreateEventIdOfRoom(room_id), create->event_id);
  EXPECT_TRUE(ValidateRoomId(room_id).ok()) << room_id;
  // With a room id it is refused: the id would not be the create event's.
  proto.room_id = kRoom;
  EXPECT_EQ(BuildEvent(proto, none, {}, 12, "a.test", Key()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EventBuilderTest, ASecondCreateEventIsRefusedEvenByTheCreator) {
  // Replacing m.room.create would fork the room at a second root with a forged creator/version.
  Room room = CreatedRoom();
  for (const char* sender : {kAlice, "@mallory:evil.test"}) {
    for (const char* state_key : {"", "x"}) {
      ProtoEvent proto = Proto("m.room.create", {{"creator", sender}, {"room_version", "1"}},
                               std::string(state_key));
      proto.sender = sender;
      absl::StatusOr<BuiltEvent> built =
          BuildEvent(proto, room.state, room.extremities, 10, "a.test", Key());
      ASSERT_FALSE(built.ok()) << sender << " " << state_key;
      EXPECT_EQ(built.status().code(), absl::StatusCode::kPermissionDenied);
      EXPECT_EQ(MatrixErrcode(built.status()), "M_FORBIDDEN");
    }
  }
}

TEST(EventBuilderTest, AuthEventsFollowTheSelectionAlgorithm) {
  Room room = CreatedRoom();
  const std::string create = room.state.Find("m.room.create", "")->event_id;
  const std::string power = room.state.Find("m.room.power_levels", "")->event_id;
  const std::string alice = room.state.Find("m.room.member", kAlice)->event_id;
  const std::string rules = room.state.Find("m.room.join_rules", "")->event_id;

  BuiltEvent message = room.Send(Proto("m.room.message", {{"body", "hi"}}, std::nullopt));
  EXPECT_EQ(message.event["auth_events"], Json({create, power, alice}));

  ProtoEvent join = Proto("m.room.member", {{"membership", "join"}}, "@bob:b.test");
  join.sender = "@bob:b.test";
  absl::StatusOr<BuiltEvent> built =
      BuildEvent(join, room.state, room.extremities, 10, "b.test", Key());
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->event["auth_events"], Json({create, power, rules}))
      << "bob has no membership yet; a join needs the join rules";
  EXPECT_TRUE(CheckAuthRules(built->event, room.state, 10).ok());
}

TEST(EventBuilderTest, PrevEventsAndDepth) {
  Room room = CreatedRoom();
  EXPECT_EQ(room.extremities[0].depth, 4);
  BuiltEvent message = room.Send(Proto("m.room.message", {{"body", "hi"}}, std::nullopt));
  EXPECT_EQ(message.event["depth"], 5);

  std::vector<PrevEvent> many;
  for (int i = 0; i < 30; ++i) many.push_back({"$e" + std::to_string(i), i});
  many.push_back({"$e29", 29});  // a duplicate is named once
  absl::StatusOr<BuiltEvent> built =
      BuildEvent(Proto("m.room.message", {}, std::nullopt), room.state, many, 10, "a.test", Key());
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->event["prev_events"].size(), kMaxPrevEvents);
  EXPECT_EQ(built->event["prev_events"][0], "$e29");
  EXPECT_EQ(built->event["prev_events"][19], "$e10");
  EXPECT_EQ(built->event["depth"], 30);

  absl::StatusOr<BuiltEvent> deep =
      BuildEvent(Proto("m.room.message", {}, std::nullopt), room.state, {{"$d", kMaxDepth}}, 10,
                 "a.test", Key());
  ASSERT_TRUE(deep.ok());
  EXPECT_EQ(deep->event["depth"], kMaxDepth) << "depth saturates instead of overflowing";

  absl::StatusOr<BuiltEvent> orphan =
      BuildEvent(Proto("m.room.message", {}, std::nullopt), room.state, {}, 10, "a.test", Key());
  EXPECT_EQ(orphan.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(EventBuilderTest, RedactsMovesIntoContentInVersion11) {
  for (int version : {10, 11}) {
    Room room = CreatedRoom(version);
    ProtoEvent redaction = Proto("m.room.redaction", {{"reason", "spam"}}, std::nullopt);
    redaction.redacts = "$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
    BuiltEvent built = room.Send(redaction, version);
    if (version == 11) {
      EXPECT_EQ(built.event["content"]["redacts"], *redaction.redacts);
      EXPECT_FALSE(built.event.contains("redacts"));
      EXPECT_FALSE(built.event.contains("origin"));
    } else {
      EXPECT_EQ(built.event["redacts"], *redaction.redacts);
      EXPECT_FALSE(built.event["content"].contains("redacts"));
    }
  }
}

TEST(EventBuilderTest, SizeLimits) {
  Room room = CreatedRoom();
  ProtoEvent big = Proto("m.room.message", {{"body", std::string(64000, 'x')}}, std::nullopt);
  absl::StatusOr<BuiltEvent> built =
      BuildEvent(big, room.state, room.extremities, 10, "a.test", Key());
  ASSERT_TRUE(built.ok()) << built.status() << "64000 bytes of body still fits";
  big.content["body"] = std::string(65536, 'x');
  built = BuildEvent(big, room.state, room.extremities, 10, "a.test", Key());
  EXPECT_EQ(MatrixErrcode(built.status()), "M_TOO_LARGE") << built.status();

  ProtoEvent long_type = Proto(std::string(256, 't'), {}, std::nullopt);
  built = BuildEvent(long_type, room.state, room.extremities, 10, "a.test", Key());
  EXPECT_EQ(MatrixErrcode(built.status()), "M_TOO_LARGE");
  ProtoEvent long_state_key = Proto("m.x", {}, std::string(256, 'k'));
  built = BuildEvent(long_state_key, room.state, room.extremities, 10, "a.test", Key());
  EXPECT_EQ(MatrixErrcode(built.status()), "M_TOO_LARGE");
  EXPECT_TRUE(CheckEventSize(Json{{"type", std::string(255, 't')}}).ok());
}

TEST(EventBuilderTest, RefusesBadProtos) {
  Room room = CreatedRoom();
  ProtoEvent bad_room = Proto("m.x", {}, std::nullopt);
  bad_room.room_id = "room";
  ProtoEvent bad_sender = Proto("m.x", {}, std::nullopt);
  bad_sender.sender = "alice";
  ProtoEvent no_type = Proto("", {}, std::nullopt);
  ProtoEvent array_content = Proto("m.x", Json::array(), std::nullopt);
  ProtoEvent bad_redacts = Proto("m.room.redaction", {}, std::nullopt);
  bad_redacts.redacts = "nope";
  ProtoEvent float_content = Proto("m.x", {{"n", 1.5}}, std::nullopt);
  for (const ProtoEvent* proto :
       {&bad_room, &bad_sender, &no_type, &array_content, &bad_redacts, &float_content}) {
    absl::StatusOr<BuiltEvent> built =
        BuildEvent(*proto, room.state, room.extremities, 10, "a.test", Key());
    EXPECT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument) << proto->type;
    EXPECT_TRUE(MatrixErrcode(built.status()).has_value());
  }
}

}  // namespace
}  // namespace periscope::matrix
