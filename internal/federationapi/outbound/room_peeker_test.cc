// Peeking into another server's room (MSC2444), with a faked peeked server and roomserver: what
// must not happen is a peek recorded (and renewed for good) whose answer was not taken in, a state
// event with a bad signature reaching the roomserver, an answer naming events it does not carry
// being used, or a refusal answered by trying servers until one says yes.

#include "internal/federationapi/outbound/room_peeker.h"

#include "gtest/gtest.h"
#include "internal/federationapi/testing/fake_key_fetcher.h"
#include "internal/federationapi/testing/fake_server_key_store.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/status/matrix_status.h"
#include "tests/testing/fake_federation.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;
using periscope::testing::FakeFederation;

constexpr char kRoom[] = "!lobby:res.test";

class RecordingRooms : public RoomInput {
 public:
  absl::StatusOr<std::optional<int>> RoomVersion(const std::string&) override {
    if (known) return 10;
    return std::nullopt;
  }
  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest& request) override {
    requests.push_back(request);
    roomserver::v1::InputRoomEventsResponse response;
    for (const auto& input : request.events()) {
      if (input.has_state() && soft_fail_latest) {
        response.add_soft_failed_event_ids(
            *matrix::ComputeEventId(Json::parse(input.event_json()), 10));
      }
    }
    return response;
  }
  absl::StatusOr<Json> ServerAcl(const std::string&) override { return Json(nullptr); }

  std::vector<roomserver::v1::InputRoomEventsRequest> requests;
  bool soft_fail_latest = false;
  bool known = false;
};

class RecordingRecorder : public PeekRecorder {
 public:
  absl::Status Record(const std::string& room_id, const std::string& server_name,
                      const std::string& peek_id, int64_t renewal_interval_ms) override {
    records.push_back({room_id, server_name, peek_id, renewal_interval_ms});
    return absl::OkStatus();
  }
  absl::Status EndedByServer(const std::string&, const std::string&, const std::string&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<Live>> LivePeek(const std::string&) override {
    if (records.empty()) return std::nullopt;
    return Live{records.back().server, records.back().peek_id, records.back().interval};
  }
  struct Recorded {
    std::string room_id, server, peek_id;
    int64_t interval;
  };
  std::vector<Recorded> records;
};

// A world-readable room of res.test (v10) whose latest event is a message.
class RoomPeekerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fetcher_.direct["res.test"] =
        *matrix::BuildServerKeys("res.test", resident_, clock_.Now() + absl::Hours(24));
    keyring_ = std::make_unique<Keyring>("us.test", ours_, keys_, fetcher_,
                                         std::vector<std::string>{}, clock_);
    peeker_ = std::make_unique<RoomPeeker>("us.test", federation_, *keyring_, rooms_, recorder_);
    state_ids_.push_back(
        Add("m.room.create", "", {{"creator", "@alice:res.test"}, {"room_version", "10"}}));
    state_ids_.push_back(Add("m.room.member", "@alice:res.test", {{"membership", "join"}}));
    state_ids_.push_back(Add("m.room.power_levels", "", {{"users", {{"@alice:res.test", 100}}}}));
    state_ids_.push_back(Add("m.room.join_rules", "", {{"join_rule", "public"}}));
    state_ids_.push_back(
        Add("m.room.history_visibility", "", {{"history_visibility", "world_readable"}}));
    latest_id_ = Add("m.room.message", std::nullopt, {{"body", "hi"}});
  }

  std::string Add(const std::string& type, std::optional<std::string> key, Json content) {
    matrix::ProtoEvent proto{kRoom, "@alice:res.test", type, key, std::move(content)};
    proto.origin_server_ts = 1000 + static_cast<int64_t>(events_.size());
    std::vector<matrix::PrevEvent> prevs;
    if (!events_.empty()) prevs.push_back({last_id_, static_cast<int64_t>(events_.size())});
    matrix::BuiltEvent built = *matrix::BuildEvent(proto, state_, prevs, 10, "res.test", resident_);
    if (key) {
      EXPECT_TRUE(state_.Put(built.event_id, built.event).ok());
    }
    last_id_ = built.event_id;
    events_.push_back(built.event);
    return built.event_id;
  }
  Json StateEvents() const { return Json(std::vector<Json>(events_.begin(), events_.end() - 1)); }
  Json DendriteAnswer() const {
    return {{"state", StateEvents()},
            {"auth_chain", Json::array()},
            {"latest_event", events_.back()},
            {"room_version", "10"},
            {"renewal_interval", 3600000}};
  }
  Json FinalAnswer() const {
    return {{"latest_event_state_ids", {{latest_id_, Json(state_ids_)}}},
            {"common_state_ids", Json::array()},
            {"events", Json(events_)},
            {"renewal_interval", 60000}};
  }
  void Answers(const std::string& server, Json answer, int status = 200) {
    federation_.On(server, "/_matrix/federation/v1/peek/", FakeFederation::Answer(status, answer));
  }
  v1::PerformOutboundPeekRequest Request(std::vector<std::string> servers) {
    v1::PerformOutboundPeekRequest request;
    request.set_room_id(kRoom);
    for (const std::string& s : servers) request.add_server_names(s);
    return request;
  }
  std::vector<std::string> Calls(const std::string& method) {
    std::vector<std::string> out;
    for (const auto& call : federation_.calls()) {
      if (call.method == method) out.push_back(call.destination);
    }
    return out;
  }
  // The request that input the latest event (the last one).
  const roomserver::v1::InputRoomEvent& LatestInput() { return rooms_.requests.back().events(0); }

  SimulatedClock clock_;
  matrix::SigningKey ours_ = *matrix::GenerateSigningKey("us");
  matrix::SigningKey resident_ = *matrix::GenerateSigningKey("res");
  testing::FakeServerKeyStore keys_;
  testing::FakeKeyFetcher fetcher_;
  std::unique_ptr<Keyring> keyring_;
  FakeFederation federation_;
  RecordingRooms rooms_;
  RecordingRecorder recorder_;
  std::unique_ptr<RoomPeeker> peeker_;
  matrix::AuthEvents state_;
  std::vector<Json> events_;
  std::vector<std::string> state_ids_;
  std::string last_id_;
  std::string latest_id_;
};

TEST_F(RoomPeekerTest, DendritesShapeIsTakenInAndRecorded) {
  Answers("res.test", DendriteAnswer());
  absl::StatusOr<v1::PerformOutboundPeekResponse> peeked = peeker_->Peek(Request({}));
  ASSERT_TRUE(peeked.ok()) << peeked.status();
  EXPECT_EQ(peeked->server_name(), "res.test");
  EXPECT_EQ(peeked->room_version(), "10");
  const roomserver::v1::InputRoomEvent& latest = LatestInput();
  EXPECT_TRUE(latest.has_state());
  EXPECT_TRUE(latest.peek_snapshot());
  EXPECT_EQ(latest.kind(), roomserver::v1::INPUT_KIND_NEW);
  EXPECT_EQ(latest.state_event_ids_size(), 5);
  ASSERT_EQ(recorder_.records.size(), 1u);
  EXPECT_EQ(recorder_.records[0].server, "res.test");
  EXPECT_EQ(recorder_.records[0].interval, 3600000);
  EXPECT_TRUE(matrix::ValidPeekId(recorder_.records[0].peek_id, ""))
      << recorder_.records[0].peek_id;
  EXPECT_EQ(recorder_.records[0].peek_id.size(), 8u);
  // The PUT offered the versions we read.
  const auto& put = federation_.calls()[0];
  EXPECT_EQ(put.method, "PUT");
  EXPECT_NE(put.target.find("ver=10"), std::string::npos);
  EXPECT_NE(put.target.find(recorder_.records[0].peek_id), std::string::npos);
}

TEST_F(RoomPeekerTest, ASecondDeviceSharesTheLivePeek) {
  Answers("res.test", DendriteAnswer());
  ASSERT_TRUE(peeker_->Peek(Request({})).ok());
  rooms_.known = true;  // the first peek's state is in
  absl::StatusOr<v1::PerformOutboundPeekResponse> again = peeker_->Peek(Request({}));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->server_name(), "res.test");
  EXPECT_EQ(Calls("PUT").size(), 1u) << "one peek for both";
  ASSERT_EQ(recorder_.records.size(), 2u) << "recorded again, to wait for the second device";
  EXPECT_EQ(recorder_.records[1].peek_id, recorder_.records[0].peek_id);
}

TEST_F(RoomPeekerTest, TheFinalShapeIsTakenInTheSameWay) {
  Answers("res.test", FinalAnswer());
  absl::StatusOr<v1::PerformOutboundPeekResponse> peeked = peeker_->Peek(Request({}));
  ASSERT_TRUE(peeked.ok()) << peeked.status();
  EXPECT_EQ(LatestInput().state_event_ids_size(), 5);
  EXPECT_EQ(*matrix::ComputeEventId(Json::parse(LatestInput().event_json()), 10), latest_id_);
  ASSERT_EQ(recorder_.records.size(), 1u);
  EXPECT_EQ(recorder_.records[0].interval, 60000);
}

TEST_F(RoomPeekerTest, ARefusalIsTheAnswerButAnUnknowingServerLeavesTheNext) {
  Answers("far.test", {{"errcode", "M_NOT_FOUND"}, {"error", "no such room"}}, 404);
  Answers("res.test", {{"errcode", "M_FORBIDDEN"}, {"error", "not world_readable"}}, 403);
  Answers("other.test", DendriteAnswer());
  absl::StatusOr<v1::PerformOutboundPeekResponse> peeked =
      peeker_->Peek(Request({"far.test", "res.test", "other.test"}));
  EXPECT_TRUE(absl::IsPermissionDenied(peeked.status())) << peeked.status();
  EXPECT_EQ(MatrixErrcode(peeked.status()), "M_FORBIDDEN");
  EXPECT_EQ(Calls("PUT"), (std::vector<std::string>{"far.test", "res.test"}));
  EXPECT_TRUE(recorder_.records.empty());
}

// Servers that do not answer share one budget: past it the rest are not asked, so the answer comes
// before the caller (the roomserver, 120 s) gives up, and each is given only what is left.
TEST_F(RoomPeekerTest, UnansweringServersShareOneBudget) {
  peeker_->set_clock(clock_);
  for (const char* server : {"s1.test", "s2.test", "s3.test", "s4.test"}) {
    federation_.On(
        server, "/_matrix/federation/v1/peek/",
        [this](const FakeFederation::Request&) -> absl::StatusOr<federation::FederationResponse> {
          clock_.Advance(absl::Seconds(40));
          return absl::UnavailableError("timed out");
        });
  }
  absl::StatusOr<v1::PerformOutboundPeekResponse> peeked =
      peeker_->Peek(Request({"s1.test", "s2.test", "s3.test", "s4.test"}));
  EXPECT_TRUE(absl::IsUnavailable(peeked.status())) << peeked.status();
  EXPECT_NE(peeked.status().message().find("timed out"), absl::string_view::npos)
      << "the last server's answer, not a bare timeout: " << peeked.status();
  EXPECT_EQ(Calls("PUT"), (std::vector<std::string>{"s1.test", "s2.test", "s3.test"}));
  EXPECT_TRUE(recorder_.records.empty());
}

TEST_F(RoomPeekerTest, AnUnusableAnswerIsCancelledAndNothingRecorded) {
  Json forged = DendriteAnswer();
  forged["state"][2]["content"]["users"]["@mallory:evil.test"] = 100;  // signature now wrong
  Answers("res.test", forged);
  absl::StatusOr<v1::PerformOutboundPeekResponse> peeked = peeker_->Peek(Request({}));
  EXPECT_FALSE(peeked.ok());
  EXPECT_TRUE(recorder_.records.empty());
  EXPECT_EQ(Calls("DELETE"), (std::vector<std::string>{"res.test"})) << "the peek is cancelled";
  for (const auto& request : rooms_.requests) {
    for (const auto& in : request.events()) EXPECT_FALSE(in.has_state());
  }
}

TEST_F(RoomPeekerTest, AStateWithTwoEventsForOneKeyIsRefused) {
  Json doubled = DendriteAnswer();
  Json other = doubled["state"][4];  // history visibility, again (another event for the key)
  other["content"]["history_visibility"] = "shared";
  doubled["state"].push_back(other);
  Answers("res.test", doubled);
  EXPECT_FALSE(peeker_->Peek(Request({})).ok());
  EXPECT_TRUE(rooms_.requests.empty());
  EXPECT_TRUE(recorder_.records.empty());
}

TEST_F(RoomPeekerTest, ALatestEventThatDoesNotFitIsNotAPeek) {
  rooms_.soft_fail_latest = true;
  Answers("res.test", DendriteAnswer());
  EXPECT_FALSE(peeker_->Peek(Request({})).ok());
  EXPECT_TRUE(recorder_.records.empty());
  EXPECT_EQ(Calls("DELETE").size(), 1u);
}

TEST_F(RoomPeekerTest, MalformedAnswersAreRefusedBeforeAnythingIsInput) {
  auto parse = [](Json answer) { return RoomPeeker::ParseAnswer(answer, "res.test").status(); };
  EXPECT_FALSE(parse(Json::array()).ok());
  Json no_interval = DendriteAnswer();
  no_interval.erase("renewal_interval");
  EXPECT_FALSE(parse(no_interval).ok());
  Json negative = DendriteAnswer();
  negative["renewal_interval"] = -5;
  EXPECT_FALSE(parse(negative).ok());
  Json old_version = DendriteAnswer();
  old_version["room_version"] = "2";
  EXPECT_EQ(MatrixErrcode(parse(old_version)), "M_INCOMPATIBLE_ROOM_VERSION");
  Json unknown_version = DendriteAnswer();
  unknown_version["room_version"] = "org.example.custom";
  EXPECT_EQ(MatrixErrcode(parse(unknown_version)), "M_INCOMPATIBLE_ROOM_VERSION");
  Json missing = FinalAnswer();
  missing["common_state_ids"] = {"$not-carried"};
  EXPECT_FALSE(parse(missing).ok());
  Json dangling = FinalAnswer();
  dangling["latest_event_state_ids"] = {{"$not-carried", Json::array()}};
  EXPECT_FALSE(parse(dangling).ok());
  Json neither = {{"renewal_interval", 1000}, {"state", "nope"}};
  EXPECT_FALSE(parse(neither).ok());
  Json ids_not_strings = FinalAnswer();
  ids_not_strings["common_state_ids"] = {1, 2};
  EXPECT_FALSE(parse(ids_not_strings).ok());
  EXPECT_TRUE(rooms_.requests.empty());
}

}  // namespace
}  // namespace periscope::federationapi
