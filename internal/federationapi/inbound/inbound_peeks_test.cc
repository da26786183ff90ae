// The /peek endpoints with a faked roomserver and federationsender. What must not happen: a peek
// the checks refuse reaching the roomserver (no snapshot, no registration), a server past its
// rate or its cap starting more peeks, a renewal or DELETE of a peek that is not live answering
// 200, or an answer that names an event it does not carry.

#include "internal/federationapi/inbound/inbound_peeks.h"

#include <map>
#include <optional>

#include "gtest/gtest.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;
namespace fs = federationsender::v1;

constexpr char kRoom[] = "!r:us.test";

// One room (v10): $create <- $join <- $msg, state {$create, $join}; snapshots recorded.
class FakeRoomserver : public RoomInput, public RoomReads {
 public:
  absl::StatusOr<std::optional<int>> RoomVersion(const std::string& room) override {
    if (room == kRoom) return 10;
    return std::nullopt;
  }
  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest&) override {
    return absl::UnimplementedError("not here");
  }
  absl::StatusOr<Json> ServerAcl(const std::string&) override { return acl; }
  absl::StatusOr<roomserver::v1::PerformInboundPeekResponse> InboundPeek(
      const roomserver::v1::PerformInboundPeekRequest& request) override {
    snapshots.push_back(request);
    if (!refusal.ok()) return refusal;
    roomserver::v1::PerformInboundPeekResponse response;
    response.set_room_version("10");
    response.set_latest_event_id("$msg");
    response.add_common_state_ids("$create");
    (*response.mutable_latest_event_state_ids())["$msg"].add_event_ids("$join");
    response.set_renewal_interval_ms(request.renewal_interval_ms());
    return response;
  }
  absl::StatusOr<std::vector<StoredPdu>> EventsById(const std::vector<std::string>& ids) override {
    static const std::map<std::string, std::string> kEvents = {
        {"$create", R"({"type":"m.room.create","state_key":"","auth_events":[]})"},
        {"$join",
         R"({"type":"m.room.member","state_key":"@a:us.test","auth_events":["$create"],"unsigned":{"age":1}})"},
        {"$msg",
         R"({"type":"m.room.message","content":{"body":"hi"},"auth_events":["$create","$join"]})"},
    };
    std::vector<StoredPdu> out;
    for (const auto& id : ids) {
      if (auto it = kEvents.find(id); it != kEvents.end()) out.push_back({id, kRoom, it->second});
    }
    return out;
  }
  absl::StatusOr<std::vector<StoredPdu>> StateAtEvent(const std::string&, const std::string&,
                                                      bool) override {
    return EventsById({"$create", "$join"});
  }
  absl::StatusOr<std::vector<StoredPdu>> CurrentState(const std::string&) override {
    return EventsById({"$create", "$join"});
  }

  absl::Status RetireInboundPeek(
      const roomserver::v1::PerformRetireInboundPeekRequest& request) override {
    if (request.room_id() != kRoom) return absl::NotFoundError("unknown room");
    retirements.push_back(request.server_name() + "/" + request.peek_id());
    return absl::OkStatus();
  }

  Json acl = nullptr;
  absl::Status refusal;
  std::vector<roomserver::v1::PerformInboundPeekRequest> snapshots;
  std::vector<std::string> retirements;
};

// The federationsender's registry: a snapshot registers its peek (as the stream would).
class FakeRegistry : public InboundPeekRegistry {
 public:
  absl::StatusOr<std::vector<fs::InboundPeek>> Find(const std::string& room,
                                                    const std::string& server,
                                                    const std::string& peek_id) override {
    // A start still in the stream: registered after this many looks.
    if (late_peek_id && --finds_before_late_registration == 0) {
      Add(kRoom, "them.test", *late_peek_id);
    }
    std::vector<fs::InboundPeek> out;
    for (const fs::InboundPeek& p : peeks) {
      if ((room.empty() || p.room_id() == room) && (server.empty() || p.server_name() == server) &&
          (peek_id.empty() || p.peek_id() == peek_id)) {
        out.push_back(p);
      }
    }
    return out;
  }
  absl::StatusOr<int64_t> Renew(const std::string& room, const std::string& server,
                                const std::string& peek_id) override {
    ++renewals;
    if (Find(room, server, peek_id)->empty()) {
      return MatrixError(absl::StatusCode::kNotFound, "M_NOT_FOUND", "no such peek");
    }
    return 60000;
  }
  absl::Status Delete(const std::string& room, const std::string& server,
                      const std::string& peek_id) override {
    auto it = std::find_if(peeks.begin(), peeks.end(), [&](const fs::InboundPeek& p) {
      return p.room_id() == room && p.server_name() == server && p.peek_id() == peek_id;
    });
    if (it == peeks.end()) {
      return MatrixError(absl::StatusCode::kNotFound, "M_NOT_FOUND", "no such peek");
    }
    peeks.erase(it);
    return absl::OkStatus();
  }
  void Add(const std::string& room, const std::string& server, const std::string& peek_id) {
    fs::InboundPeek p;
    p.set_room_id(room);
    p.set_server_name(server);
    p.set_peek_id(peek_id);
    p.set_latest_event_id("$msg");
    peeks.push_back(p);
  }
  std::vector<fs::InboundPeek> peeks;
  int renewals = 0;
  std::optional<std::string> late_peek_id;
  int finds_before_late_registration = 0;
};

class InboundPeekHandlerTest : public ::testing::Test {
 protected:
  InboundPeekHandlerTest()
      : reads_("us.test", rooms_, rooms_, clock_),
        handler_(rooms_, rooms_, reads_, registry_, clock_,
                 InboundPeekOptions{.renewal_interval = absl::Minutes(1),
                                    .max_peeks_per_server = 3,
                                    .rate_limit_burst = 5,
                                    .rate_limit_per_second = 1,
                                    .registration_wait = absl::ZeroDuration()},
                 [this](absl::string_view request, absl::string_view outcome) {
                   ++counted_[absl::StrCat(request, "/", outcome)];
                 }) {}

  absl::StatusOr<Json> Peek(const std::string& peek_id, const std::string& room = kRoom,
                            std::vector<std::string> versions = {"9", "10"}) {
    absl::StatusOr<Json> answer = handler_.Peek("them.test", room, peek_id, versions);
    // What the stream would do once the roomserver took the snapshot.
    if (answer.ok()) registry_.Add(room, "them.test", peek_id);
    return answer;
  }
  static std::string Errcode(const absl::Status& s) { return MatrixErrcode(s).value_or(""); }

  SimulatedClock clock_;
  FakeRoomserver rooms_;
  FakeRegistry registry_;
  FederationReads reads_;
  InboundPeekHandler handler_;
  std::map<std::string, int> counted_;
};

TEST_F(InboundPeekHandlerTest, TheAnswerHasBothShapesAndCarriesEveryEventItNames) {
  absl::StatusOr<Json> answer = Peek("pk");
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["room_version"], "10");
  EXPECT_EQ((*answer)["renewal_interval"], 60000);
  EXPECT_EQ((*answer)["common_state_ids"], Json::array({"$create"}));
  EXPECT_EQ((*answer)["latest_event_state_ids"], (Json{{"$msg", {"$join"}}}));
  EXPECT_EQ((*answer)["latest_event"]["content"]["body"], "hi");
  EXPECT_EQ((*answer)["state"].size(), 2u) << "Dendrite's state: the state after latest_event";
  EXPECT_EQ((*answer)["events"].size(), 3u) << "state, the extremity, no duplicates";
  for (const Json& e : (*answer)["events"]) EXPECT_FALSE(e.contains("unsigned"));
  EXPECT_TRUE((*answer)["auth_chain"].is_array());
  ASSERT_EQ(rooms_.snapshots.size(), 1u);
  EXPECT_EQ(rooms_.snapshots[0].server_name(), "them.test");
  EXPECT_EQ(rooms_.snapshots[0].renewal_interval_ms(), 60000);
  EXPECT_EQ(counted_["peek/ok"], 1);
}

TEST_F(InboundPeekHandlerTest, RefusalsNeverReachTheRoomserver) {
  EXPECT_EQ(Errcode(Peek("123456789").status()), "M_UNRECOGNIZED");
  EXPECT_EQ(Errcode(Peek("a/b").status()), "M_UNRECOGNIZED");
  EXPECT_EQ(Errcode(Peek("").status()), "M_UNRECOGNIZED");
  EXPECT_EQ(Errcode(Peek("pk", "not a room").status()), "M_INVALID_PARAM");
  absl::Status unknown = Peek("pk", "!nope:us.test").status();
  EXPECT_TRUE(absl::IsNotFound(unknown)) << unknown;
  EXPECT_EQ(Errcode(unknown), "M_NOT_FOUND");
  rooms_.acl = Json{{"allow", {"*"}}, {"deny", {"them.test"}}};
  absl::Status denied = Peek("pk").status();
  EXPECT_TRUE(absl::IsPermissionDenied(denied)) << denied;
  EXPECT_TRUE(rooms_.snapshots.empty());
  EXPECT_EQ(counted_["peek/bad_request"], 4);
  EXPECT_EQ(counted_["peek/not_found"], 1);
  EXPECT_EQ(counted_["peek/forbidden"], 1);
}

TEST_F(InboundPeekHandlerTest, DendritesRoomIdPeekIdIsAccepted) {
  EXPECT_TRUE(Peek(kRoom).ok());
  EXPECT_EQ(Errcode(Peek("!other:us.test").status()), "M_UNRECOGNIZED") << "only the room's own id";
}

TEST_F(InboundPeekHandlerTest, TheRoomserversRefusalIsTheAnswerAndRegistersNothing) {
  rooms_.refusal = MatrixError(absl::StatusCode::kPermissionDenied, "M_FORBIDDEN", "not readable");
  absl::Status refused = Peek("pk").status();
  EXPECT_EQ(Errcode(refused), "M_FORBIDDEN");
  EXPECT_TRUE(registry_.peeks.empty());
}

TEST_F(InboundPeekHandlerTest, AServerPastItsRateWaitsAndIsToldHowLong) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Peek("same").ok()) << i;  // a repeat PUT renews
  absl::Status limited = Peek("same").status();
  EXPECT_TRUE(absl::IsResourceExhausted(limited)) << limited;
  EXPECT_EQ(Errcode(limited), "M_LIMIT_EXCEEDED");
  absl::StatusOr<Json> fields = matrix::ParseJson(MatrixErrorFields(limited).value_or(""));
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ((*fields)["retry_after_ms"], 1000);
  EXPECT_EQ(rooms_.snapshots.size(), 5u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(Peek("same").ok()) << "a token is back";
  EXPECT_TRUE(handler_.Peek("else.test", kRoom, "pk", {"10"}).ok()) << "another server's bucket";
  EXPECT_EQ(counted_["peek/rate_limited"], 1);
}

TEST_F(InboundPeekHandlerTest, AServerAtItsCapStartsNoMorePeeksButRenewsThoseItHas) {
  registry_.Add("!elsewhere:us.test", "them.test", "x");
  ASSERT_TRUE(Peek("one").ok());
  ASSERT_TRUE(Peek("two").ok());
  absl::Status capped = Peek("three").status();
  EXPECT_EQ(Errcode(capped), "M_LIMIT_EXCEEDED");
  EXPECT_EQ(rooms_.snapshots.size(), 2u);
  EXPECT_TRUE(Peek("two").ok()) << "a repeat PUT of a live peek is not a new one";
  EXPECT_TRUE(handler_.Peek("else.test", kRoom, "one", {"10"}).ok()) << "the cap is per server";
}

TEST_F(InboundPeekHandlerTest, RenewAndDeleteAnswerOnlyForLivePeeksOfTheirServer) {
  ASSERT_TRUE(Peek("pk").ok());
  absl::StatusOr<Json> renewed = handler_.Renew("them.test", kRoom, "pk");
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, (Json{{"renewal_interval", 60000}}));
  EXPECT_EQ(Errcode(handler_.Renew("else.test", kRoom, "pk").status()), "M_NOT_FOUND")
      << "another server cannot renew it";
  EXPECT_EQ(Errcode(handler_.Unpeek("else.test", kRoom, "pk").status()), "M_NOT_FOUND")
      << "nor end it";
  EXPECT_EQ(Errcode(handler_.Renew("them.test", kRoom, "waytoolong").status()), "M_UNRECOGNIZED");
  absl::StatusOr<Json> gone = handler_.Unpeek("them.test", kRoom, "pk");
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_EQ(*gone, Json::object());
  EXPECT_EQ(Errcode(handler_.Unpeek("them.test", kRoom, "pk").status()), "M_NOT_FOUND");
  EXPECT_EQ(Errcode(handler_.Renew("them.test", kRoom, "pk").status()), "M_NOT_FOUND");
  EXPECT_EQ(counted_["renew/ok"], 1);
  EXPECT_EQ(counted_["unpeek/ok"], 1);
  EXPECT_EQ(counted_["renew/not_found"], 2);
}

// A renewal right behind a PUT answered before the federationsender registered the peek (it was
// behind on the room's stream) waits for the registration: a 404 would tell the peer its peek
// ended. A peek that never registers is still a 404 after the wait.
TEST(InboundPeekRenewalTest, ARenewalOfAPeekStillInTheStreamWaitsForItsRegistration) {
  SimulatedClock clock;
  FakeRoomserver rooms;
  FakeRegistry registry;
  FederationReads reads("us.test", rooms, rooms, clock);
  InboundPeekHandler handler(rooms, rooms, reads, registry, clock,
                             {.registration_wait = absl::Milliseconds(300)});
  registry.late_peek_id = "late";
  registry.finds_before_late_registration = 3;
  absl::StatusOr<Json> renewed = handler.Renew("them.test", kRoom, "late");
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(*renewed, (Json{{"renewal_interval", 60000}}));
  EXPECT_EQ(MatrixErrcode(handler.Renew("them.test", kRoom, "never").status()), "M_NOT_FOUND");
}

// A DELETE may be of a peek whose start is still in the stream (the PUT answered past its wait,
// or a repeated PUT): its end is written into the room's stream behind the start. Unregistered,
// it is still a 404.
TEST_F(InboundPeekHandlerTest, ADeleteOfAnUnregisteredPeekEndsItInTheRoomsStream) {
  EXPECT_EQ(Errcode(handler_.Unpeek("them.test", kRoom, "late").status()), "M_NOT_FOUND");
  EXPECT_EQ(rooms_.retirements, (std::vector<std::string>{"them.test/late"}));
  EXPECT_EQ(Errcode(handler_.Unpeek("them.test", "!other:us.test", "late").status()),
            "M_NOT_FOUND");
  // A registered peek's end goes into the stream too: a repeated PUT's start may be there still.
  ASSERT_TRUE(Peek("pk").ok());
  ASSERT_TRUE(handler_.Unpeek("them.test", kRoom, "pk").ok());
  EXPECT_EQ(rooms_.retirements, (std::vector<std::string>{"them.test/late", "them.test/pk"}));
}

// Unregistered DELETEs each write into a room's stream: past the origin's rate they are refused
// with 429 (to be tried again), never answered 404 as if the peek were over.
TEST_F(InboundPeekHandlerTest, UnregisteredDeletesPastTheRateAreToldToWait) {
  absl::Status last;
  for (int i = 0; i < 6; ++i) last = handler_.Unpeek("them.test", kRoom, "late").status();
  EXPECT_EQ(Errcode(last), "M_LIMIT_EXCEEDED");
  EXPECT_EQ(rooms_.retirements.size(), 5u);
}

}  // namespace
}  // namespace periscope::federationapi
