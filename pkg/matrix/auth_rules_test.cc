// The authorization rules, table-driven: each rule's allowed and refused cases, starting from a
// room where @alice created the room (level 100), @mod has 50 and @bob 0, all joined, and the
// join rule is "invite". Each case may replace state first; a refusal must name its rule.

#include "pkg/matrix/auth_rules.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

constexpr char kRoom[] = "!r:a.test";
constexpr char kAlice[] = "@alice:a.test";
constexpr char kMod[] = "@mod:a.test";
constexpr char kBob[] = "@bob:b.test";
constexpr char kCarol[] = "@carol:b.test";

Json Event(absl::string_view type, absl::string_view sender, const Json& content,
           const char* state_key = nullptr) {
  Json event = {{"type", type},
                {"sender", sender},
                {"room_id", kRoom},
                {"content", content.is_null() ? Json::object() : content},
                {"prev_events", {"$p"}},
                {"auth_events", Json::array()},
                {"depth", 5},
                {"origin_server_ts", 1}};
  if (state_key != nullptr) event["state_key"] = state_key;
  return event;
}

Json Member(absl::string_view sender, const char* target, absl::string_view membership,
            Json extra = Json::object()) {
  extra["membership"] = membership;
  return Event("m.room.member", sender, extra, target);
}

Json PowerLevelsEvent(Json content) {
  return Event("m.room.power_levels", kAlice, std::move(content), "");
}

Json DefaultLevels() {
  return {{"users", {{kAlice, 100}, {kMod, 50}}},
          {"ban", 50},
          {"kick", 50},
          {"invite", 0},
          {"redact", 50},
          {"state_default", 50},
          {"events_default", 0},
          {"users_default", 0},
          {"events", {{"m.room.power_levels", 100}, {"m.room.history_visibility", 100}}},
          {"notifications", {{"room", 50}}}};
}

Json JoinRules(absl::string_view rule) {
  return Event("m.room.join_rules", kAlice, {{"join_rule", rule}}, "");
}

AuthEvents BaseState(int version = 10) {
  AuthEvents state;
  Json create_content = {{"room_version", std::to_string(version)}};
  if (version < 11) create_content["creator"] = kAlice;
  Json create = Event("m.room.create", kAlice, create_content, "");
  create["prev_events"] = Json::array();
  EXPECT_TRUE(state.Add("$create", create).ok());
  EXPECT_TRUE(state.Add("$alice", Member(kAlice, kAlice, "join")).ok());
  EXPECT_TRUE(state.Add("$mod", Member(kMod, kMod, "join")).ok());
  EXPECT_TRUE(state.Add("$bob", Member(kBob, kBob, "join")).ok());
  EXPECT_TRUE(state.Add("$pl", PowerLevelsEvent(DefaultLevels())).ok());
  EXPECT_TRUE(state.Add("$jr", JoinRules("invite")).ok());
  return state;
}

struct Case {
  std::string name;
  std::vector<Json> state;  // replaces base state entries of the same (type, state_key)
  Json event;
  std::string refused_by;  // empty: allowed
  int version = 10;
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    AuthEvents state = BaseState(c.version);
    for (const Json& event : c.state) ASSERT_TRUE(state.Put("$s", event).ok()) << c.name;
    absl::Status status = CheckAuthRules(c.event, state, c.version);
    if (c.refused_by.empty()) {
      EXPECT_TRUE(status.ok()) << c.name << ": " << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << c.name << ": " << status;
      EXPECT_EQ(MatrixErrcode(status), "M_FORBIDDEN") << c.name;
      EXPECT_TRUE(absl::StartsWith(status.message(), "auth rule " + c.refused_by + ":"))
          << c.name << ": want rule " << c.refused_by << ", got " << status.message();
    }
  }
}

TEST(AuthRulesTest, Create) {
  Json create = Event("m.room.create", kAlice, {{"creator", kAlice}, {"room_version", "10"}}, "");
  create["prev_events"] = Json::array();
  Json with_prev = create;
  with_prev["prev_events"] = {"$x"};
  Json other_domain = create;
  other_domain["sender"] = kBob;
  Json bad_version = create;
  bad_version["content"]["room_version"] = "99";
  Json no_creator = create;
  no_creator["content"].erase("creator");
  AuthEvents empty;
  EXPECT_TRUE(CheckAuthRules(create, empty, 10).ok());
  EXPECT_EQ(CheckAuthRules(with_prev, empty, 10).message().substr(0, 14), "auth rule 1.1:");
  EXPECT_EQ(CheckAuthRules(other_domain, empty, 10).message().substr(0, 14), "auth rule 1.2:");
  EXPECT_EQ(CheckAuthRules(bad_version, empty, 10).message().substr(0, 14), "auth rule 1.3:");
  EXPECT_EQ(CheckAuthRules(no_creator, empty, 10).message().substr(0, 14), "auth rule 1.4:");
  EXPECT_TRUE(CheckAuthRules(no_creator, empty, 11).ok()) << "v11 needs no creator";
  // Rule 1 holds for every m.room.create, whatever its state_key: one with another key and prev
  // events is not an ordinary state event.
  Json keyed = with_prev;
  keyed["state_key"] = "x";
  EXPECT_EQ(CheckAuthRules(keyed, BaseState(), 10).message().substr(0, 14), "auth rule 1.1:");
}

TEST(AuthRulesTest, NoCreateEventAndNonFederatingRooms) {
  AuthEvents empty;
  absl::Status status = CheckAuthRules(Event("m.room.message", kAlice, {}), empty, 10);
  EXPECT_TRUE(absl::StartsWith(status.message(), "auth rule 2.4:")) << status;

  AuthEvents state = BaseState();
  Json create = *state.Get("m.room.create", "");
  create["content"]["m.federate"] = false;
  ASSERT_TRUE(state.Put("$create", create).ok());
  EXPECT_TRUE(CheckAuthRules(Event("m.room.message", kAlice, {}), state, 10).ok());
  status = CheckAuthRules(Event("m.room.message", kBob, {}), state, 10);
  EXPECT_TRUE(absl::StartsWith(status.message(), "auth rule 3:")) << status;
}

TEST(AuthRulesTest, Joins) {
  Json creator_join = Member(kAlice, kAlice, "join");
  creator_join["prev_events"] = {"$create"};
  Json carol_join = Member(kCarol, kCarol, "join");
  RunCases({
      {"creator joins right after create", {}, creator_join, ""},
      {"join without state_key",
       {},
       Event("m.room.member", kCarol, {{"membership", "join"}}),
       "4.1"},
      {"member without membership",
       {},
       Event("m.room.member", kCarol, Json::object(), kCarol),
       "4.1"},
      {"joining as someone else", {}, Member(kBob, kCarol, "join"), "4.3.2"},
      {"banned user joins a public room",
       {JoinRules("public"), Member(kAlice, kCarol, "ban")},
       carol_join,
       "4.3.3"},
      {"joining an invite-only room uninvited", {}, carol_join, "4.3.4"},
      {"joining an invite-only room invited", {Member(kAlice, kCarol, "invite")}, carol_join, ""},
      {"rejoining while joined", {}, Member(kBob, kBob, "join"), ""},
      {"joining a public room", {JoinRules("public")}, carol_join, ""},
      {"joining a knock room uninvited", {JoinRules("knock")}, carol_join, "4.3.4"},
      {"joining a private room", {JoinRules("private")}, carol_join, "4.3.7"},
      {"no join rules at all is not public",
       {Event("m.room.join_rules", kAlice, Json::object(), "")},
       carol_join,
       "4.3.7"},
      {"after leaving a public room",
       {JoinRules("public"), Member(kCarol, kCarol, "leave")},
       carol_join,
       ""},
  });
}

TEST(AuthRulesTest, RestrictedJoins) {
  Json authorised = Member(kCarol, kCarol, "join", {{"join_authorised_via_users_server", kMod}});
  authorised["signatures"] = {{"b.test", {{"ed25519:1", "x"}}}, {"a.test", {{"ed25519:1", "y"}}}};
  Json unsigned_by_authoriser = authorised;
  unsigned_by_authoriser["signatures"].erase("a.test");
  Json via_bob = Member(kCarol, kCarol, "join", {{"join_authorised_via_users_server", kBob}});
  via_bob["signatures"] = {{"b.test", {{"ed25519:1", "x"}}}};
  Json restricted = JoinRules("restricted");
  Json bob_cannot_invite = PowerLevelsEvent(DefaultLevels());
  bob_cannot_invite["content"]["invite"] = 10;
  RunCases({
      {"authorised by a member who may invite", {restricted}, authorised, ""},
      {"authoriser's server did not sign", {restricted}, unsigned_by_authoriser, "4.2"},
      {"no authoriser", {restricted}, Member(kCarol, kCarol, "join"), "4.3.5.2"},
      {"authoriser may not invite", {restricted, bob_cannot_invite}, via_bob, "4.3.5.2"},
      {"authoriser not joined", {restricted, Member(kMod, kMod, "leave")}, authorised, "4.3.5.2"},
      {"invited users join a restricted room",
       {restricted, Member(kAlice, kCarol, "invite")},
       Member(kCarol, kCarol, "join"),
       ""},
      {"knock_restricted works like restricted in v10",
       {JoinRules("knock_restricted")},
       authorised,
       ""},
      {"restricted does not exist before v8", {restricted}, authorised, "4.3.7", 7},
      {"knock_restricted does not exist before v10",
       {JoinRules("knock_restricted")},
       authorised,
       "4.3.7",
       9},
  });
}

TEST(AuthRulesTest, Invites) {
  Json carol_levels = PowerLevelsEvent(DefaultLevels());
  carol_levels["content"]["invite"] = 50;
  RunCases({
      {"member invites", {}, Member(kBob, kCarol, "invite"), ""},
      {"third-party invite is refused clearly",
       {},
       Member(kBob, kCarol, "invite", {{"third_party_invite", {{"signed", {{"token", "t"}}}}}}),
       "4.4.1"},
      {"non-member invites",
       {Member(kBob, kBob, "leave")},
       Member(kBob, kCarol, "invite"),
       "4.4.2"},
      {"inviting a joined user", {}, Member(kBob, kMod, "invite"), "4.4.3"},
      {"inviting a banned user",
       {Member(kAlice, kCarol, "ban")},
       Member(kMod, kCarol, "invite"),
       "4.4.3"},
      {"inviting below the invite level", {carol_levels}, Member(kBob, kCarol, "invite"), "4.4.5"},
      {"inviting at the invite level", {carol_levels}, Member(kMod, kCarol, "invite"), ""},
  });
}

TEST(AuthRulesTest, LeavesKicksAndUnbans) {
  RunCases({
      {"leaving", {}, Member(kBob, kBob, "leave"), ""},
      {"rejecting an invite",
       {Member(kAlice, kCarol, "invite")},
       Member(kCarol, kCarol, "leave"),
       ""},
      {"rescinding a knock",
       {JoinRules("knock"), Member(kCarol, kCarol, "knock")},
       Member(kCarol, kCarol, "leave"),
       ""},
      {"leaving after being banned",
       {Member(kAlice, kCarol, "ban")},
       Member(kCarol, kCarol, "leave"),
       "4.5.1"},
      {"leaving twice",
       {Member(kCarol, kCarol, "leave")},
       Member(kCarol, kCarol, "leave"),
       "4.5.1"},
      {"kick by a non-member",
       {Member(kAlice, kCarol, "invite")},
       Member(kCarol, kBob, "leave"),
       "4.5.2"},
      {"unban below the ban level",
       {Member(kAlice, kCarol, "ban")},
       Member(kBob, kCarol, "leave"),
       "4.5.3"},
      {"unban at the ban level",
       {Member(kAlice, kCarol, "ban")},
       Member(kMod, kCarol, "leave"),
       ""},
      {"kick by a moderator", {}, Member(kMod, kBob, "leave"), ""},
      {"kick below the kick level", {}, Member(kBob, kMod, "leave"), "4.5.5"},
      {"kick of an equal",
       {Member(kCarol, kCarol, "join"),
        PowerLevelsEvent(Json::parse(R"({"users":{"@alice:a.test":100,
                                "@mod:a.test":50,"@carol:b.test":50}})"))},
       Member(kMod, kCarol, "leave"),
       "4.5.5"},
      {"kick of a superior", {}, Member(kMod, kAlice, "leave"), "4.5.5"},
  });
}

TEST(AuthRulesTest, BanVersusKickLevels) {
  // Kicking needs 10 and banning 80: a moderator at 50 can kick but not ban.
  Json levels = PowerLevelsEvent(DefaultLevels());
  levels["content"]["kick"] = 10;
  levels["content"]["ban"] = 80;
  RunCases({
      {"kick at 50 with kick 10", {levels}, Member(kMod, kBob, "leave"), ""},
      {"ban at 50 with ban 80", {levels}, Member(kMod, kBob, "ban"), "4.6.3"},
      {"ban by the creator", {levels}, Member(kAlice, kBob, "ban"), ""},
      {"ban by a non-member", {Member(kMod, kMod, "leave")}, Member(kMod, kBob, "ban"), "4.6.1"},
      {"ban of a superior", {}, Member(kMod, kAlice, "ban"), "4.6.3"},
      {"ban of someone not in the room", {}, Member(kMod, kCarol, "ban"), ""},
  });
}

TEST(AuthRulesTest, Knocks) {
  RunCases({
      {"knock on a knock room", {JoinRules("knock")}, Member(kCarol, kCarol, "knock"), ""},
      {"knock on a knock_restricted room",
       {JoinRules("knock_restricted")},
       Member(kCarol, kCarol, "knock"),
       ""},
      {"knock on an invite room", {}, Member(kCarol, kCarol, "knock"), "4.7.1"},
      {"knock for someone else", {JoinRules("knock")}, Member(kBob, kCarol, "knock"), "4.7.2"},
      {"knock while joined", {JoinRules("knock")}, Member(kBob, kBob, "knock"), "4.7.4"},
      {"knock while banned",
       {JoinRules("knock"), Member(kAlice, kCarol, "ban")},
       Member(kCarol, kCarol, "knock"),
       "4.7.4"},
      {"knock before v7 is an unknown membership",
       {JoinRules("knock")},
       Member(kCarol, kCarol, "knock"),
       "4.8",
       6},
      {"unknown membership", {}, Member(kBob, kBob, "dance"), "4.8"},
  });
}

TEST(AuthRulesTest, OtherEvents) {
  Json topic = Event("m.room.topic", kMod, {{"topic", "t"}}, "");
  Json bob_topic = topic;
  bob_topic["sender"] = kBob;
  Json custom_level = PowerLevelsEvent(DefaultLevels());
  custom_level["content"]["events"]["m.room.message"] = 20;
  custom_level["content"]["events_default"] = 5;
  RunCases({
      {"message from a member", {}, Event("m.room.message", kBob, {{"body", "hi"}}), ""},
      {"message from a non-member", {}, Event("m.room.message", kCarol, {{"body", "hi"}}), "5"},
      {"message from an invitee",
       {Member(kAlice, kCarol, "invite")},
       Event("m.room.message", kCarol, {}),
       "5"},
      {"state at state_default", {}, topic, ""},
      {"state below state_default", {}, bob_topic, "7"},
      {"state without a state_key is a message", {}, Event("m.room.topic", kBob, {}), ""},
      {"events override", {}, Event("m.room.history_visibility", kMod, {}, ""), "7"},
      {"events override for messages", {custom_level}, Event("m.room.message", kBob, {}), "7"},
      {"events_default", {custom_level}, Event("m.custom", kBob, {}), "7"},
      {"state_key of another user", {}, Event("m.custom.state", kMod, {}, kBob), "8"},
      {"state_key of oneself", {}, Event("m.custom.state", kMod, {}, kMod), ""},
      {"third_party_invite at the invite level",
       {},
       Event("m.room.third_party_invite", kBob, {}, "token"),
       ""},
      {"redaction from a member needs only events_default",
       {},
       Event("m.room.redaction", kBob, {}),
       ""},
  });
}

TEST(AuthRulesTest, PowerLevelChanges) {
  auto change = [](absl::string_view sender, const std::function<void(Json&)>& edit) {
    Json content = DefaultLevels();
    edit(content);
    Json event = PowerLevelsEvent(content);
    event["sender"] = sender;
    return event;
  };
  // @mod (50) may edit the power levels in these cases.
  Json mod_may = PowerLevelsEvent(DefaultLevels());
  mod_may["content"]["events"]["m.room.power_levels"] = 50;
  RunCases({
      {"creator changes anything", {}, change(kAlice, [](Json& c) { c["ban"] = 100; }), ""},
      {"below the power_levels level", {}, change(kMod, [](Json& c) { c["kick"] = 40; }), "7"},
      {"string level in v10", {}, change(kAlice, [](Json& c) { c["ban"] = "50"; }), "9.1"},
      {"string level before v10", {}, change(kAlice, [](Json& c) { c["ban"] = "60"; }), "", 9},
      {"junk string level before v10",
       {},
       change(kAlice, [](Json& c) { c["ban"] = "x"; }),
       "9.1",
       9},
      {"events not an object", {}, change(kAlice, [](Json& c) { c["events"] = 5; }), "9.2"},
      {"events value not an integer",
       {},
       change(kAlice, [](Json& c) { c["events"]["m.x"] = "5"; }),
       "9.2"},
      {"notifications value not an integer",
       {},
       change(kAlice, [](Json& c) { c["notifications"]["room"] = true; }),
       "9.2"},
      {"users key not a user id",
       {},
       change(kAlice, [](Json& c) { c["users"]["bob"] = 5; }),
       "9.3"},
      {"users value not an integer",
       {},
       change(kAlice, [](Json& c) { c["users"][kBob] = "5"; }),
       "9.3"},
      {"first power levels event", {}, change(kAlice, [](Json& c) {}), ""},
      {"raising a level above one's own",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["kick"] = 60;
              }),
       "9.5.2"},
      {"changing a level above one's own",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["ban"] = 40;
              }),
       ""},
      {"changing events entry above one's own",
       {mod_may},
       change(kMod, [](Json& c) { c["events"]["m.room.history_visibility"] = 50; }),
       "9.6.1"},
      {"removing state_default at one's own level",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c.erase("state_default");
              }),
       ""},
      {"adding an events entry above one's own",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["events"]["m.room.name"] = 51;
              }),
       "9.7.1"},
      {"changing notifications above one's own (v6+)",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["notifications"]["room"] = 60;
              }),
       "9.7.1"},
      {"demoting an equal",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["users"][kAlice] = 0;
              }),
       "9.8.1"},
      {"demoting oneself",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["users"][kMod] = 10;
              }),
       ""},
      {"promoting someone to one's own level",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["users"][kBob] = 50;
              }),
       ""},
      {"promoting someone above one's own level",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["users"][kBob] = 51;
              }),
       "9.9.1"},
      {"promoting oneself",
       {mod_may},
       change(kMod,
              [](Json& c) {
                c["events"]["m.room.power_levels"] = 50;
                c["users"][kMod] = 60;
              }),
       "9.9.1"},
  });
}

TEST(AuthRulesTest, WithoutPowerLevelsTheCreatorRules) {
  AuthEvents state = BaseState();
  AuthEvents without;
  for (const auto& [key, entry] : state.entries()) {
    if (key.first != "m.room.power_levels") {
      ASSERT_TRUE(without.Add(entry.event_id, entry.event).ok());
    }
  }
  EXPECT_TRUE(CheckAuthRules(Member(kAlice, kBob, "ban"), without, 10).ok());
  EXPECT_TRUE(CheckAuthRules(Event("m.room.name", kBob, {}, ""), without, 10).ok())
      << "state_default is 0 without a power levels event";
  absl::Status status = CheckAuthRules(Member(kBob, kMod, "ban"), without, 10);
  EXPECT_TRUE(absl::StartsWith(status.message(), "auth rule 4.6.3:")) << status;
}

TEST(AuthRulesTest, Version11CreatorIsTheCreateSender) {
  AuthEvents state = BaseState(11);
  Json creator_join = Member(kAlice, kAlice, "join");
  creator_join["prev_events"] = {"$create"};
  EXPECT_TRUE(CheckAuthRules(creator_join, state, 11).ok());
  EXPECT_EQ(RoomCreator(*state.Get("m.room.create", ""), 11), kAlice);
  EXPECT_EQ(RoomCreator(*state.Get("m.room.create", ""), 10), "");
}

// Room version 12: the room id is the create event's id ("!" for "$"), the create event is implied
// rather than listed, and creators (sender + additional_creators) have infinite power.
constexpr char kRoomV12[] = "!hash";

AuthEvents StateV12(Json additional_creators = nullptr) {
  AuthEvents state;
  Json create = {{"type", "m.room.create"},
                 {"sender", kAlice},
                 {"state_key", ""},
                 {"content", {{"room_version", "12"}}},
                 {"prev_events", Json::array()},
                 {"auth_events", Json::array()}};
  if (!additional_creators.is_null())
    create["content"]["additional_creators"] = additional_creators;
  EXPECT_TRUE(state.Add("$hash", create).ok());
  EXPECT_TRUE(state.Add("$alice", Member(kAlice, kAlice, "join")).ok());
  EXPECT_TRUE(state.Add("$bob", Member(kBob, kBob, "join")).ok());
  EXPECT_TRUE(state.Add("$carol", Member(kCarol, kCarol, "join")).ok());
  // Alice is not listed: as a creator she needs no entry, and may not have one.
  EXPECT_TRUE(state.Add("$pl", PowerLevelsEvent({{"users", {{kBob, 50}}}})).ok());
  return state;
}

Json InRoomV12(Json event) {
  event["room_id"] = kRoomV12;
  return event;
}

TEST(AuthRulesTest, Version12CreateEvent) {
  Json create = {{"type", "m.room.create"},
                 {"sender", kAlice},
                 {"state_key", ""},
                 {"content", {{"room_version", "12"}}},
                 {"prev_events", Json::array()}};
  AuthEvents empty;
  EXPECT_TRUE(CheckAuthRules(create, empty, 12).ok());
  Json with_room_id = create;
  with_room_id["room_id"] = "!x:a.test";
  EXPECT_TRUE(
      absl::StartsWith(CheckAuthRules(with_room_id, empty, 12).message(), "auth rule 1.2 (v12):"));
  Json bad_creators = create;
  bad_creators["content"]["additional_creators"] = {kBob, "not-a-user"};
  EXPECT_TRUE(
      absl::StartsWith(CheckAuthRules(bad_creators, empty, 12).message(), "auth rule 1.4 (v12):"));
  bad_creators["content"]["additional_creators"] = kBob;
  EXPECT_FALSE(CheckAuthRules(bad_creators, empty, 12).ok());
  Json good_creators = create;
  good_creators["content"]["additional_creators"] = {kBob};
  EXPECT_TRUE(CheckAuthRules(good_creators, empty, 12).ok());
}

TEST(AuthRulesTest, Version12RoomIdMustNameTheCreateEvent) {
  AuthEvents state = StateV12();
  EXPECT_TRUE(CheckAuthRules(InRoomV12(Event("m.room.message", kBob, {})), state, 12).ok());
  Json elsewhere = Event("m.room.message", kBob, {});
  elsewhere["room_id"] = "!otherhash";
  EXPECT_TRUE(
      absl::StartsWith(CheckAuthRules(elsewhere, state, 12).message(), "auth rule 2 (v12):"));
}

TEST(AuthRulesTest, Version12CreatorsHaveInfinitePower) {
  AuthEvents state = StateV12(Json::array({kCarol}));
  // What every permission check outside the auth rules reads (the directory, redactions).
  EXPECT_EQ(PowerLevelsIn(state, 12)->UserLevel(kAlice), PowerLevels::kCreatorLevel);
  EXPECT_EQ(PowerLevelsIn(state, 12)->UserLevel(kCarol), PowerLevels::kCreatorLevel);
  EXPECT_EQ(PowerLevelsIn(state, 12)->UserLevel(kBob), 50);
  EXPECT_EQ(PowerLevelsIn(state, 11)->UserLevel(kAlice), 0) << "before 12, only `users` counts";
  // Alice (sender of the create) and Carol (an additional creator) outrank anyone: they may set
  // any level, and kick Bob (50).
  Json levels = {{"users", {{kBob, 100000}}}, {"state_default", 9000}};
  EXPECT_TRUE(CheckAuthRules(InRoomV12(PowerLevelsEvent(levels)), state, 12).ok());
  Json kick = InRoomV12(Member(kCarol, kBob, "leave"));
  EXPECT_TRUE(CheckAuthRules(kick, state, 12).ok());
  // Bob cannot touch a creator, nor list one in users (rule 10.4).
  EXPECT_FALSE(CheckAuthRules(InRoomV12(Member(kBob, kCarol, "ban")), state, 12).ok());
  Json list_creator = PowerLevelsEvent({{"users", {{kBob, 50}, {kAlice, 100}}}});
  list_creator["sender"] = kAlice;
  EXPECT_TRUE(absl::StartsWith(CheckAuthRules(InRoomV12(list_creator), state, 12).message(),
                               "auth rule 10.4 (v12):"));
  Json list_extra = PowerLevelsEvent({{"users", {{kBob, 50}, {kCarol, 0}}}});
  EXPECT_TRUE(absl::StartsWith(CheckAuthRules(InRoomV12(list_extra), state, 12).message(),
                               "auth rule 10.4 (v12):"));
  // Before version 12, the same room gives Carol only users_default.
  EXPECT_FALSE(CheckAuthRules(Member(kCarol, kBob, "leave"), BaseState(11), 11).ok());
}

TEST(AuthEventsTest, Version12ImpliesTheCreateEvent) {
  Json event = InRoomV12(Event("m.room.message", kBob, {}));
  event["auth_events"] = {"$pl", "$bob"};
  EXPECT_EQ(CreateEventIdOfRoom(kRoomV12), "$hash");
  EXPECT_EQ(AuthEventIdsOf(event, 12), (std::vector<std::string>{"$pl", "$bob", "$hash"}));
  EXPECT_EQ(AuthEventIdsOf(event, 11), (std::vector<std::string>{"$pl", "$bob"}));
  std::vector<StateKey> keys = AuthEventKeysFor(event, 12);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), StateKey("m.room.create", "")), 0);
  keys = AuthStateKeysFor(event, 12);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), StateKey("m.room.create", "")), 1);

  AuthEvents state = StateV12();
  std::vector<Json> listed = {*state.Get("m.room.power_levels", ""),
                              *state.Get("m.room.member", kBob)};
  EXPECT_TRUE(CheckAuthEventsSelection(event, listed, 12).ok());
  listed.push_back(*state.Get("m.room.create", ""));
  EXPECT_TRUE(
      absl::StartsWith(CheckAuthEventsSelection(event, listed, 12).message(), "auth rule 2.2:"));
}

TEST(AuthRulesTest, HostileEventsAreRefusedNotCrashed) {
  AuthEvents state = BaseState();
  for (
      const char* text :
      {R"([])", R"({})", R"({"type":"m.room.member"})", R"({"type":5,"sender":"@a:b"})",
       R"({"type":"m.room.member","sender":"@bob:b.test","state_key":"@bob:b.test","content":[]})",
       R"({"type":"m.room.message","sender":"nobody"})",
       R"({"type":"m.room.power_levels","state_key":"","sender":"@alice:a.test","content":{"users":[]}})",
       R"({"type":"m.room.member","state_key":"@c:b","sender":"@c:b","prev_events":7,"content":{"membership":"join"}})"}) {
    absl::Status status = CheckAuthRules(Json::parse(text), state, 10);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << text;
  }
}

TEST(AuthRulesTest, Redactions) {
  AuthEvents state = BaseState();
  EXPECT_TRUE(CheckClientRedaction(kBob, kBob, state, 10).ok());
  EXPECT_TRUE(CheckClientRedaction(kMod, kBob, state, 10).ok());
  absl::Status status = CheckClientRedaction(kBob, kMod, state, 10);
  EXPECT_EQ(MatrixErrcode(status), "M_FORBIDDEN");
  EXPECT_TRUE(RedactionTakesEffect(kAlice, kMod, state, 10)) << "same server";
  EXPECT_TRUE(RedactionTakesEffect(kMod, kBob, state, 10)) << "redact level";
  EXPECT_FALSE(RedactionTakesEffect(kCarol, kMod, state, 10));
}

TEST(AuthEventsTest, SelectionAlgorithm) {
  Json join = Member(kCarol, kCarol, "join", {{"join_authorised_via_users_server", kMod}});
  std::vector<StateKey> keys = AuthEventKeysFor(join, 10);
  std::vector<StateKey> want = {{"m.room.create", ""},     {"m.room.power_levels", ""},
                                {"m.room.member", kCarol}, {"m.room.member", kCarol},
                                {"m.room.join_rules", ""}, {"m.room.member", kMod}};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(AuthEventKeysFor(join, 7).size(), 5u) << "no restricted joins before v8";
  EXPECT_EQ(AuthEventKeysFor(Event("m.room.message", kBob, {}), 10).size(), 3u);
  Json tpi =
      Member(kBob, kCarol, "invite", {{"third_party_invite", {{"signed", {{"token", "t"}}}}}});
  EXPECT_EQ(AuthEventKeysFor(tpi, 10).back(), StateKey("m.room.third_party_invite", "t"));
  EXPECT_EQ(AuthEventKeysFor(Member(kBob, kCarol, "ban"), 10).size(), 4u);
}

TEST(AuthEventsTest, SelectionIsEnforced) {
  AuthEvents state = BaseState();
  Json message = Event("m.room.message", kBob, {});
  std::vector<Json> good = {*state.Get("m.room.create", ""), *state.Get("m.room.power_levels", ""),
                            *state.Get("m.room.member", kBob)};
  EXPECT_TRUE(CheckAuthEventsSelection(message, good, 10).ok());
  std::vector<Json> duplicate = good;
  duplicate.push_back(good[1]);
  EXPECT_TRUE(absl::StartsWith(CheckAuthEventsSelection(message, duplicate, 10).message(),
                               "auth rule 2.1:"));
  std::vector<Json> extra = good;
  extra.push_back(*state.Get("m.room.join_rules", ""));
  EXPECT_TRUE(
      absl::StartsWith(CheckAuthEventsSelection(message, extra, 10).message(), "auth rule 2.2:"));
  std::vector<Json> no_create(good.begin() + 1, good.end());
  EXPECT_TRUE(absl::StartsWith(CheckAuthEventsSelection(message, no_create, 10).message(),
                               "auth rule 2.4:"));
}

TEST(AuthEventsTest, AddRefusesDuplicatesAndNonState) {
  AuthEvents state;
  EXPECT_TRUE(state.Add("$1", JoinRules("public")).ok());
  EXPECT_FALSE(state.Add("$2", JoinRules("invite")).ok());
  EXPECT_TRUE(state.Put("$2", JoinRules("invite")).ok());
  EXPECT_EQ(state.Find("m.room.join_rules", "")->event_id, "$2");
  EXPECT_FALSE(state.Add("$3", Event("m.room.message", kBob, {})).ok());
  EXPECT_EQ(state.MembershipOf(kBob), "leave");
}

}  // namespace
}  // namespace periscope::matrix
