// Joining a room over federation, with a faked resident server and a fake roomserver: what must
// not happen is a join through a server that refused it, a state event with a bad signature
// reaching the roomserver, events input before their auth events, or a template for someone
// else signed as our user's join.

#include "internal/federationapi/outbound/room_joiner.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "internal/federationapi/inbound/parked_pdu_worker.h"
#include "internal/federationapi/inbound/state_input.h"
#include "internal/federationapi/testing/fake_key_fetcher.h"
#include "internal/federationapi/testing/fake_server_key_store.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/status/matrix_status.h"
#include "tests/testing/fake_federation.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;
using periscope::testing::FakeFederation;

constexpr char kRoom[] = "!lobby:res.test";

// The roomserver as a join sees it: it records every input request.
class RecordingRooms : public RoomInput {
 public:
  absl::StatusOr<std::optional<int>> RoomVersion(const std::string&) override {
    return std::nullopt;
  }
  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest& request) override {
    requests.push_back(request);
    roomserver::v1::InputRoomEventsResponse response;
    for (const auto& input : request.events()) {
      Json event = Json::parse(input.event_json());
      if (input.has_state() && reject_join) {
        (*response.mutable_rejected())[*matrix::ComputeEventId(event, 10)] = "banned";
      }
    }
    return response;
  }
  absl::StatusOr<Json> ServerAcl(const std::string&) override { return Json(nullptr); }

  std::vector<roomserver::v1::InputRoomEventsRequest> requests;
  bool reject_join = false;
};

// A room of res.test: create, alice's join, power levels, public join rules.
class RoomJoinerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fetcher_.direct["res.test"] =
        *matrix::BuildServerKeys("res.test", resident_, clock_.Now() + absl::Hours(24));
    keyring_ = std::make_unique<Keyring>("us.test", ours_, keys_, fetcher_,
                                         std::vector<std::string>{}, clock_);
    joiner_ =
        std::make_unique<RoomJoiner>("us.test", ours_, clock_, federation_, *keyring_, rooms_);
    Add("m.room.create", "", {{"creator", "@alice:res.test"}, {"room_version", "10"}});
    Add("m.room.member", "@alice:res.test", {{"membership", "join"}});
    Add("m.room.power_levels", "", {{"users", {{"@alice:res.test", 100}}}});
    Add("m.room.join_rules", "", {{"join_rule", "public"}});
  }

  // Appends a state event of alice's to the room.
  void Add(const std::string& type, const std::string& key, Json content) {
    matrix::ProtoEvent proto{kRoom, "@alice:res.test", type, key, std::move(content)};
    proto.origin_server_ts = 1000 + static_cast<int64_t>(events_.size());
    std::vector<matrix::PrevEvent> prevs;
    if (!events_.empty()) prevs.push_back({last_id_, static_cast<int64_t>(events_.size())});
    matrix::BuiltEvent built = *matrix::BuildEvent(proto, state_, prevs, 10, "res.test", resident_);
    ASSERT_TRUE(state_.Add(built.event_id, built.event).ok());
    last_id_ = built.event_id;
    events_.push_back(built.event);
  }

  // The template res.test would make for `user`.
  Json Template(const std::string& user) {
    matrix::ProtoEvent proto{kRoom, user, "m.room.member", user, {{"membership", "join"}}};
    proto.origin_server_ts = 5000;
    Json event =
        matrix::BuildEvent(proto, state_, {{last_id_, 4}}, 10, "res.test", resident_)->event;
    event.erase("hashes");
    event.erase("signatures");
    return event;
  }

  // res.test answers make_join with `made` and send_join with the room's state.
  // (`version` is the room version make_join names.)
  void ResidentAnswers(Json made, const std::string& version = "10") {
    federation_.On("res.test", "/_matrix/federation/v1/make_join/",
                   FakeFederation::Answer(200, {{"event", made}, {"room_version", version}}));
    federation_.On(
        "res.test", "/_matrix/federation/v2/send_join/",
        [this](const FakeFederation::Request& r) -> absl::StatusOr<federation::FederationResponse> {
          Json body = {{"origin", "res.test"},
                       {"state", events_},
                       {"auth_chain", Json::array()},
                       {"event", *r.body}};
          return federation::FederationResponse{200, body, body.dump()};
        });
  }

  v1::PerformJoinRequest Request(std::vector<std::string> servers) {
    v1::PerformJoinRequest request;
    request.set_room_id(kRoom);
    request.set_user_id("@bob:us.test");
    for (const std::string& s : servers) request.add_server_names(s);
    request.set_content_json(R"({"displayname":"Bob"})");
    return request;
  }

  SimulatedClock clock_;
  matrix::SigningKey ours_ = *matrix::GenerateSigningKey("us");
  matrix::SigningKey resident_ = *matrix::GenerateSigningKey("res");
  testing::FakeServerKeyStore keys_;
  testing::FakeKeyFetcher fetcher_;
  std::unique_ptr<Keyring> keyring_;
  FakeFederation federation_;
  RecordingRooms rooms_;
  std::unique_ptr<RoomJoiner> joiner_;
  matrix::AuthEvents state_;
  std::vector<Json> events_;
  std::string last_id_;
};

TEST_F(RoomJoinerTest, JoinsThroughTheFirstServerThatKnowsTheRoom) {
  federation_.On("other.test", "/_matrix/federation/v1/make_join/",
                 FakeFederation::Answer(404, {{"errcode", "M_NOT_FOUND"}, {"error", "no room"}}));
  ResidentAnswers(Template("@bob:us.test"));
  absl::StatusOr<std::string> joined = joiner_->Join(Request({"other.test"}));
  ASSERT_TRUE(joined.ok()) << joined.status();

  // other.test first, then the room id's own server; send_join to the one that made the join.
  std::vector<FakeFederation::Request> calls = federation_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].destination, "other.test");
  EXPECT_EQ(calls[1].destination, "res.test");
  EXPECT_NE(calls[1].target.find("ver=10"), std::string::npos);
  EXPECT_EQ(calls[2].method, "PUT");
  EXPECT_EQ(calls[2].target, "/_matrix/federation/v2/send_join/%21lobby%3Ares.test/" +
                                 federation::EncodePathArg(*joined));
  // The join we sent is ours: signed by us, our user's content, its id the one returned.
  const Json& sent = *calls[2].body;
  EXPECT_EQ(*matrix::ComputeEventId(sent, 10), *joined);
  EXPECT_EQ(sent["origin"], "us.test");
  EXPECT_EQ(sent["content"]["displayname"], "Bob");
  EXPECT_EQ(sent["content"]["membership"], "join");
  EXPECT_TRUE(sent["signatures"].contains("us.test"));
  EXPECT_TRUE(
      matrix::VerifyEventSignature(sent, "us.test", ours_.key_id, ours_.public_key, 10).ok());

  // The roomserver got the state as outliers, create first and auth events before what they
  // authorise, then the join with that state; every request may create the room.
  ASSERT_GE(rooms_.requests.size(), 2u);
  std::vector<std::string> order;
  for (size_t i = 0; i + 1 < rooms_.requests.size(); ++i) {
    for (const auto& input : rooms_.requests[i].events()) {
      EXPECT_EQ(input.kind(), roomserver::v1::INPUT_KIND_OUTLIER);
      order.push_back(matrix::StringField(Json::parse(input.event_json()), "type"));
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"m.room.create", "m.room.member",
                                             "m.room.power_levels", "m.room.join_rules"}));
  const auto& last = rooms_.requests.back();
  EXPECT_EQ(last.create_room_version(), "10");
  ASSERT_EQ(last.events_size(), 1);
  EXPECT_EQ(last.events(0).kind(), roomserver::v1::INPUT_KIND_NEW);
  EXPECT_TRUE(last.events(0).has_state());
  EXPECT_EQ(last.events(0).state_event_ids_size(), 4);
}

TEST_F(RoomJoinerTest, ARefusalIsFinal) {
  federation_.On(
      "res.test", "/_matrix/federation/v1/make_join/",
      FakeFederation::Answer(403, {{"errcode", "M_FORBIDDEN"}, {"error", "invite only"}}));
  ResidentAnswers(Template("@bob:us.test"));  // (the earlier route wins: make_join is refused)
  absl::StatusOr<std::string> joined = joiner_->Join(Request({"res.test", "other.test"}));
  EXPECT_TRUE(absl::IsPermissionDenied(joined.status())) << joined.status();
  EXPECT_EQ(MatrixErrcode(joined.status()), "M_FORBIDDEN");
  // Nobody else was asked, nothing was sent, nothing reached the roomserver.
  EXPECT_EQ(federation_.calls().size(), 1u);
  EXPECT_TRUE(rooms_.requests.empty());
}

// A resident none of whose users may vouch for a restricted join says so (400
// M_UNABLE_TO_AUTHORISE_JOIN): unlike other refusals, another server may, and is asked.
TEST_F(RoomJoinerTest, AServerThatCannotVouchForARestrictedJoinLeavesTheNextToAsk) {
  federation_.On("other.test", "/_matrix/federation/v1/make_join/",
                 FakeFederation::Answer(400, {{"errcode", "M_UNABLE_TO_AUTHORISE_JOIN"},
                                              {"error", "not in the allowed rooms"}}));
  federation_.On("third.test", "/_matrix/federation/v1/make_join/",
                 FakeFederation::Answer(400, {{"errcode", "M_UNABLE_TO_GRANT_JOIN"},
                                              {"error", "no one here may invite"}}));
  ResidentAnswers(Template("@bob:us.test"));
  absl::StatusOr<std::string> joined = joiner_->Join(Request({"other.test", "third.test"}));
  ASSERT_TRUE(joined.ok()) << joined.status();
  ASSERT_EQ(federation_.calls().size(), 4u);
  EXPECT_EQ(federation_.calls()[2].destination, "res.test");
}

TEST_F(RoomJoinerTest, ABadlySignedRoomStateEventStopsTheJoinWithNothingInput) {
  Add("m.room.name", "", {{"name", "Lobby"}});
  events_.back()["content"]["name"] = "Forged";  // its hash and signature no longer match...
  events_.back()["hashes"]["sha256"] =
      *matrix::ContentHash(events_.back());  // ...nor the signature
  ResidentAnswers(Template("@bob:us.test"));
  absl::StatusOr<std::string> joined = joiner_->Join(Request({}));
  EXPECT_FALSE(joined.ok());
  EXPECT_TRUE(rooms_.requests.empty());
}

TEST_F(RoomJoinerTest, ATemplateForSomeoneElseIsNotSigned) {
  ResidentAnswers(Template("@mallory:us.test"));
  absl::StatusOr<std::string> joined = joiner_->Join(Request({}));
  EXPECT_FALSE(joined.ok());
  for (const auto& call : federation_.calls()) EXPECT_EQ(call.method, "GET");  // no send_join
  EXPECT_TRUE(rooms_.requests.empty());
}

TEST_F(RoomJoinerTest, AJoinTheRoomserverRefusesIsForbidden) {
  ResidentAnswers(Template("@bob:us.test"));
  rooms_.reject_join = true;
  absl::StatusOr<std::string> joined = joiner_->Join(Request({}));
  EXPECT_TRUE(absl::IsPermissionDenied(joined.status())) << joined.status();
}

TEST_F(RoomJoinerTest, NoServerToAskIsNotFound) {
  v1::PerformJoinRequest request = Request({"us.test"});  // ourselves: never asked
  request.set_room_id("!mine:us.test");
  absl::StatusOr<std::string> joined = joiner_->Join(request);
  EXPECT_TRUE(absl::IsNotFound(joined.status())) << joined.status();
  EXPECT_TRUE(federation_.calls().empty());
  // A remote user cannot be joined through us.
  request.set_user_id("@eve:res.test");
  EXPECT_TRUE(absl::IsInvalidArgument(joiner_->Join(request).status()));
}

// Keys that cannot be fetched must not make a wrong state: room-level state that cannot be
// verified stops the join with nothing input; a member event that cannot be (a long-gone server's)
// is left out and the join goes on.
TEST_F(RoomJoinerTest, UnverifiableRoomStateStopsTheJoinAnUnverifiableMemberIsLeftOut) {
  matrix::SigningKey other = *matrix::GenerateSigningKey("o");
  matrix::ProtoEvent member{
      kRoom, "@olga:other.test", "m.room.member", "@olga:other.test", {{"membership", "join"}}};
  member.origin_server_ts = 2000;
  events_.push_back(
      matrix::BuildEvent(member, state_, {{last_id_, 4}}, 10, "other.test", other)->event);
  ResidentAnswers(Template("@bob:us.test"));  // other.test's keys: unreachable
  ASSERT_TRUE(joiner_->Join(Request({})).ok());
  EXPECT_EQ(rooms_.requests.back().events(0).state_event_ids_size(), 4);  // without olga

  rooms_.requests.clear();
  matrix::ProtoEvent topic{kRoom, "@olga:other.test", "m.room.topic", "", {{"topic", "t"}}};
  topic.origin_server_ts = 2001;
  events_.push_back(
      matrix::BuildEvent(topic, state_, {{last_id_, 4}}, 10, "other.test", other)->event);
  absl::StatusOr<std::string> joined = joiner_->Join(Request({}));
  EXPECT_TRUE(absl::IsUnavailable(joined.status())) << joined.status();
  EXPECT_TRUE(rooms_.requests.empty());
}

// A server answering make_join with a version we did not offer is passed over, not signed for.
TEST_F(RoomJoinerTest, ARoomVersionNotOfferedMovesOnToTheNextServer) {
  federation_.On(
      "old.test", "/_matrix/federation/v1/make_join/",
      FakeFederation::Answer(200, {{"event", Template("@bob:us.test")}, {"room_version", "3"}}));
  ResidentAnswers(Template("@bob:us.test"));
  ASSERT_TRUE(joiner_->Join(Request({"old.test"})).ok());
  std::vector<FakeFederation::Request> calls = federation_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].destination, "res.test");
  EXPECT_EQ(calls[2].method, "PUT");
}

// The resident's copy of our join contributes its signature, if it verifies, and nothing else.
class ResidentCopyTest : public RoomJoinerTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ResidentCopyTest, TheResidentsCopyOfTheJoinAddsOnlyItsValidSignature) {
  const bool forged = GetParam();
  federation_.On(
      "res.test", "/_matrix/federation/v1/make_join/",
      FakeFederation::Answer(200, {{"event", Template("@bob:us.test")}, {"room_version", "10"}}));
  std::string their_signature;
  federation_.On(
      "res.test", "/_matrix/federation/v2/send_join/",
      [&](const FakeFederation::Request& r) -> absl::StatusOr<federation::FederationResponse> {
        Json copy = *matrix::AddEventSignature(*r.body, "res.test", resident_, 10);
        if (forged) copy["signatures"]["res.test"][resident_.key_id] = "c2lnbmF0dXJl";
        their_signature = copy["signatures"]["res.test"][resident_.key_id];
        copy["signatures"].erase("us.test");
        copy["unsigned"] = {{"redacted_because", {{"type", "m.room.redaction"}}}};
        copy["content"]["displayname"] = "Not Bob";  // not covered by the event id
        Json body = {{"origin", "res.test"},
                     {"state", events_},
                     {"auth_chain", Json::array()},
                     {"event", copy}};
        return federation::FederationResponse{200, body, body.dump()};
      });
  ASSERT_TRUE(joiner_->Join(Request({})).ok());
  Json stored = Json::parse(rooms_.requests.back().events(0).event_json());
  EXPECT_EQ(stored["content"]["displayname"], "Bob");
  EXPECT_FALSE(stored.contains("unsigned"));
  EXPECT_TRUE(stored["signatures"].contains("us.test"));
  if (forged) {
    EXPECT_FALSE(stored["signatures"].contains("res.test"));
  } else {
    EXPECT_EQ(stored["signatures"]["res.test"][resident_.key_id], their_signature);
  }
}

INSTANTIATE_TEST_SUITE_P(ValidOrForged, ResidentCopyTest, ::testing::Bool());

// A client that gave up waiting and asked again: the second Join waits for the first and gives
// its outcome; one join event is sent, not two.
TEST_F(RoomJoinerTest, ASecondJoinOfTheSameUserWhileOneIsUnderWayTakesItsOutcome) {
  absl::Notification entered, release;
  federation_.On(
      "res.test", "/_matrix/federation/v1/make_join/",
      [&](const FakeFederation::Request&) -> absl::StatusOr<federation::FederationResponse> {
        if (!entered.HasBeenNotified()) entered.Notify();
        release.WaitForNotification();
        Json body = {{"event", Template("@bob:us.test")}, {"room_version", "10"}};
        return federation::FederationResponse{200, body, body.dump()};
      });
  ResidentAnswers(Template("@bob:us.test"));  // send_join (make_join's route above comes first)
  absl::StatusOr<std::string> first, second;
  std::thread a([&] { first = joiner_->Join(Request({})); });
  entered.WaitForNotification();
  std::thread b([&] { second = joiner_->Join(Request({})); });
  absl::SleepFor(absl::Milliseconds(50));  // b is waiting, not asking
  release.Notify();
  a.join();
  b.join();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*first, *second);
  int send_joins = 0;
  for (const auto& call : federation_.calls()) send_joins += call.method == "PUT" ? 1 : 0;
  EXPECT_EQ(send_joins, 1);
  // Once it is over, a new Join asks again.
  EXPECT_TRUE(joiner_->Join(Request({})).ok());
}

// Servers that take long to fail are not asked past the budget: the join ends while its caller
// still waits for it.
TEST_F(RoomJoinerTest, CandidatesAreAskedOnlyWhileTheBudgetLasts) {
  for (const char* server : {"s1.test", "s2.test", "s3.test", "s4.test", "s5.test"}) {
    federation_.On(
        server, "/_matrix/federation/v1/make_join/",
        [this](const FakeFederation::Request&) -> absl::StatusOr<federation::FederationResponse> {
          clock_.Advance(absl::Seconds(30));  // each times out
          return absl::DeadlineExceededError("no answer");
        });
  }
  absl::StatusOr<std::string> joined =
      joiner_->Join(Request({"s1.test", "s2.test", "s3.test", "s4.test", "s5.test"}));
  EXPECT_EQ(joined.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(federation_.calls().size(), 4u);  // 4 × 30 s passes 110 s; the fifth is not asked
  EXPECT_TRUE(rooms_.requests.empty());
}

// A make_join naming another version than the room's create event: nothing is input.
TEST_F(RoomJoinerTest, AMakeJoinVersionTheCreateEventContradictsInputsNothing) {
  ResidentAnswers(Template("@bob:us.test"), "9");
  EXPECT_FALSE(joiner_->Join(Request({})).ok());
  EXPECT_TRUE(rooms_.requests.empty());
}

TEST_F(RoomJoinerTest, AuthOrderPutsAuthEventsFirstWhateverTheInputOrder) {
  std::vector<Json> shuffled = events_;
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::vector<Json> ordered = AuthOrder(shuffled, 10);
    ASSERT_EQ(ordered.size(), events_.size());
    std::set<std::string> seen;
    for (const Json& e : ordered) {
      for (const std::string& auth : matrix::AuthEventIdsOf(e, 10)) {
        EXPECT_TRUE(seen.contains(auth)) << "an auth event came after " << e.dump();
      }
      seen.insert(*matrix::ComputeEventId(e, 10));
    }
  }
}

}  // namespace
}  // namespace periscope::federationapi

namespace periscope::federationapi {
namespace {

// Events of the room that other servers send while our join is under way (between make_join and
// taking in send_join's answer) are parked, and handed over to be processed once the join is in;
// a join that fails hands them on all the same (to be ignored as /send would).
class ParkingJoinerTest : public RoomJoinerTest {
 protected:
  void SetUp() override {
    RoomJoinerTest::SetUp();
    joiner_ = std::make_unique<RoomJoiner>(
        "us.test", ours_, clock_, federation_, *keyring_, rooms_, &being_joined_,
        [this](std::vector<RoomsBeingJoined::Parked> parked) {
          inputs_before_processing_ = rooms_.requests.size();
          processed_.insert(processed_.end(), parked.begin(), parked.end());
        });
  }
  // res.test answers as ResidentAnswers, and meanwhile "sends" `message` (the /send handler would
  // park it now).
  void ResidentAnswersWhileSending(const Json& message, int send_join_status = 200) {
    federation_.On(
        "res.test", "/_matrix/federation/v1/make_join/",
        FakeFederation::Answer(200, {{"event", Template("@bob:us.test")}, {"room_version", "10"}}));
    federation_.On("res.test", "/_matrix/federation/v2/send_join/",
                   [this, message, send_join_status](const FakeFederation::Request& r)
                       -> absl::StatusOr<federation::FederationResponse> {
                     parked_during_join_ = being_joined_.Park(kRoom, "res.test", message);
                     Json body = {{"origin", "res.test"},
                                  {"state", events_},
                                  {"auth_chain", Json::array()},
                                  {"event", *r.body}};
                     if (send_join_status != 200) body = {{"errcode", "M_FORBIDDEN"}};
                     return federation::FederationResponse{send_join_status, body, body.dump()};
                   });
  }

  RoomsBeingJoined being_joined_;
  std::vector<RoomsBeingJoined::Parked> processed_;
  size_t inputs_before_processing_ = 0;
  bool parked_during_join_ = false;
};

TEST_F(ParkingJoinerTest, EventsSentDuringTheJoinAreProcessedAfterItIsIn) {
  const Json message = {{"room_id", kRoom}, {"type", "m.room.message"}, {"depth", 9}};
  ResidentAnswersWhileSending(message);
  absl::StatusOr<std::string> joined = joiner_->Join(Request({}));
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_TRUE(parked_during_join_);
  ASSERT_EQ(processed_.size(), 1u);
  EXPECT_EQ(processed_[0].origin, "res.test");
  EXPECT_EQ(processed_[0].pdu, message);
  // After the join itself was input (the last request of the join), never before.
  EXPECT_EQ(inputs_before_processing_, rooms_.requests.size());
  // Once the join is over, the room's events are no longer parked.
  EXPECT_FALSE(being_joined_.Park(kRoom, "res.test", message));
}

TEST_F(ParkingJoinerTest, AFailedJoinHandsOnWhatWasParked) {
  const Json message = {{"room_id", kRoom}, {"type", "m.room.message"}, {"depth", 9}};
  ResidentAnswersWhileSending(message, 403);
  EXPECT_FALSE(joiner_->Join(Request({})).ok());
  EXPECT_TRUE(parked_during_join_);
  EXPECT_EQ(processed_.size(), 1u);
  EXPECT_FALSE(being_joined_.Park(kRoom, "res.test", message));
}

TEST(RoomsBeingJoinedTest, ParksOnlyWhileNoJoinIsInAndTheJoinThatGetsInTakesAll) {
  RoomsBeingJoined rooms;
  const Json pdu = {{"room_id", "!a:x.test"}};
  EXPECT_FALSE(rooms.Park("!a:x.test", "x.test", pdu));
  rooms.Begin("!a:x.test");
  rooms.Begin("!a:x.test");  // two of our users join it at once
  EXPECT_TRUE(rooms.Park("!a:x.test", "x.test", pdu));
  // The same PDU again (its transaction sent again after an outage): parked once.
  EXPECT_TRUE(rooms.Park("!a:x.test", "x.test", pdu));
  EXPECT_FALSE(rooms.Park("!b:x.test", "x.test", pdu));  // another room
  // One join fails: the other may still bring the room in, so what was parked stays.
  EXPECT_TRUE(rooms.Finish("!a:x.test", false).empty());
  EXPECT_TRUE(rooms.Park("!a:x.test", "y.test", Json{{"room_id", "!a:x.test"}, {"n", 2}}));
  rooms.Begin("!a:x.test");
  // One join gets in: it takes everything, and the room is parked no more, although the third
  // join is still under way.
  std::vector<RoomsBeingJoined::Parked> parked = rooms.Finish("!a:x.test", true);
  ASSERT_EQ(parked.size(), 2u);
  EXPECT_EQ(parked[0].origin, "x.test");
  EXPECT_EQ(parked[1].origin, "y.test");
  EXPECT_FALSE(rooms.Park("!a:x.test", "x.test", pdu));
  EXPECT_TRUE(rooms.Finish("!a:x.test", true).empty());
  EXPECT_TRUE(rooms.Finish("!a:x.test", true).empty());  // an unmatched Finish changes nothing
  EXPECT_FALSE(rooms.Park("!a:x.test", "x.test", pdu));
  // The last join failing hands over what it parked.
  rooms.Begin("!c:x.test");
  EXPECT_TRUE(rooms.Park("!c:x.test", "x.test", pdu));
  EXPECT_EQ(rooms.Finish("!c:x.test", false).size(), 1u);
}

TEST(RoomsBeingJoinedTest, EachOriginHasItsShareOfARoomsParking) {
  RoomsBeingJoined rooms;
  rooms.Begin("!a:x.test");
  const Json pdu = {{"room_id", "!a:x.test"}};
  for (size_t i = 0; i < RoomsBeingJoined::kMaxParkedPerOrigin; ++i) {
    ASSERT_TRUE(rooms.Park("!a:x.test", "flood.test", Json{{"room_id", "!a:x.test"}, {"i", i}}));
  }
  EXPECT_FALSE(rooms.Park("!a:x.test", "flood.test", Json{{"room_id", "!a:x.test"}, {"n", 1}}));
  // Another server still has its share.
  EXPECT_TRUE(rooms.Park("!a:x.test", "resident.test", pdu));
  // By size too.
  const Json big = {
      {"room_id", "!a:x.test"},
      {"content", std::string(RoomsBeingJoined::kMaxParkedBytesPerOrigin / 2 + 1, 'x')}};
  EXPECT_TRUE(rooms.Park("!a:x.test", "big.test", big));
  Json bigger = big;
  bigger["n"] = 2;
  EXPECT_FALSE(rooms.Park("!a:x.test", "big.test", bigger));
  EXPECT_EQ(rooms.Finish("!a:x.test", true).size(), RoomsBeingJoined::kMaxParkedPerOrigin + 2);
}

// The worker processes batches in order on its own thread, tries again what met an outage (after
// a backoff, at most kMaxAttempts times), and stops between PDUs at shutdown.
TEST(ParkedPduWorkerTest, ProcessesInOrderAndRetriesWhatMetAnOutage) {
  SimulatedClock clock;
  absl::Mutex mu;
  std::vector<std::string> seen;
  int outages = 2;
  ParkedPduWorker worker(
      [&](const std::vector<RoomsBeingJoined::Parked>& batch, const std::function<bool()>&) {
        std::vector<RoomsBeingJoined::Parked> again;
        absl::MutexLock lock(&mu);
        for (const auto& p : batch) {
          if (p.origin == "flaky.test" && outages > 0) {
            --outages;
            again.push_back(p);
          } else {
            seen.push_back(p.origin);
          }
        }
        return again;
      },
      clock, absl::Seconds(1));
  worker.Submit({{"a.test", Json::object()}, {"flaky.test", Json::object()}});
  worker.Submit({{"b.test", Json::object()}});
  // The retry waits for its backoff, and does not hold up the later batch.
  for (int i = 0; i < 1000; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (seen.size() == 2) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(seen, (std::vector<std::string>{"a.test", "b.test"}));
  }
  // Two outages: retried after 1 s, then 2 s. The simulated clock moves on until the retry got
  // through (bounded, so that a broken worker fails the test rather than hang it).
  bool through = false;
  for (int i = 0; i < 500 && !through; ++i) {
    clock.Advance(absl::Seconds(1));
    absl::SleepFor(absl::Milliseconds(20));
    absl::MutexLock lock(&mu);
    through = seen.size() == 3;
  }
  EXPECT_TRUE(through);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"a.test", "b.test", "flaky.test"}));
  EXPECT_EQ(outages, 0);
}

TEST(ParkedPduWorkerTest, ShutdownStopsBetweenPdusAndDropsTheRest) {
  SimulatedClock clock;
  absl::Notification entered;
  std::atomic<int> processed{0};
  {
    ParkedPduWorker worker(
        [&](const std::vector<RoomsBeingJoined::Parked>& batch,
            const std::function<bool()>& stopping) {
          for (size_t i = 0; i < batch.size() && !stopping(); ++i) {
            if (i == 0) {
              // The first PDU is under way until the worker is told to stop.
              entered.Notify();
              while (!stopping()) absl::SleepFor(absl::Milliseconds(1));
            }
            ++processed;
          }
          return std::vector<RoomsBeingJoined::Parked>{};
        },
        clock);
    worker.Submit({{"a.test", Json::object()}, {"a.test", Json::object()}});
    worker.Submit({{"b.test", Json::object()}});
    entered.WaitForNotification();
  }  // destroyed while the first PDU is under way
  EXPECT_EQ(processed.load(), 1);
}

}  // namespace
}  // namespace periscope::federationapi
