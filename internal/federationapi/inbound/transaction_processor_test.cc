// /send processing with a fake roomserver, an in-memory answer store and a faked origin: what
// must not happen is a transaction stored twice, an event from a denied server reaching the
// room, a malformed transaction half-processed, or a PDU with unknown prevs silently lost.

#include "internal/federationapi/inbound/transaction_processor.h"

#include <map>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "internal/federationapi/testing/fake_key_fetcher.h"
#include "internal/federationapi/testing/fake_server_key_store.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/status/matrix_status.h"
#include "tests/testing/fake_federation.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;

// The roomserver as far as /send sees it: rooms with a version and an ACL; an event is accepted
// when its prev events are known (else not processed), rejected when its type says so.
class FakeRooms : public RoomInput {
 public:
  absl::StatusOr<std::optional<int>> RoomVersion(const std::string& room_id) override {
    if (down) return absl::UnavailableError("the roomserver is down");
    auto it = versions.find(room_id);
    if (it == versions.end()) return std::nullopt;
    return it->second;
  }
  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest& request) override {
    if (hold != nullptr) {
      entered.Notify();
      hold->WaitForNotification();
    }
    roomserver::v1::InputRoomEventsResponse response;
    for (const auto& input : request.events()) {
      Json event = Json::parse(input.event_json());
      std::string id = *matrix::ComputeEventId(event, 10);
      ++inputs[id];
      bool known_prevs = true;
      for (const auto& prev : event["prev_events"]) {
        if (!stored.contains(prev.get<std::string>())) known_prevs = false;
      }
      if (input.kind() == roomserver::v1::INPUT_KIND_OUTLIER) {
        outliers.insert(id);
        continue;
      }
      if (input.has_state()) {
        // Placed across a gap with the state given (which must have been input first).
        for (const std::string& state_id : input.state_event_ids()) {
          if (!outliers.contains(state_id)) {
            (*response.mutable_not_processed())[id] = "state unknown";
          }
        }
        placed_with_state[id] = {input.state_event_ids().begin(), input.state_event_ids().end()};
        stored.insert(id);
        continue;
      }
      if (!known_prevs) {
        (*response.mutable_not_processed())[id] = "prev events unknown";
      } else if (event["type"] == "test.rejected") {
        stored.insert(id);
        (*response.mutable_rejected())[id] = "not allowed";
      } else if (event["type"] == "test.soft_failed") {
        stored.insert(id);
        response.add_soft_failed_event_ids(id);
      } else {
        stored.insert(id);
      }
    }
    return response;
  }
  absl::StatusOr<bool> HasState(const std::string& room_id) override {
    return !stateless.contains(room_id);
  }
  absl::StatusOr<Json> ServerAcl(const std::string& room_id) override {
    auto it = acls.find(room_id);
    return it == acls.end() ? Json(nullptr) : it->second;
  }

  std::map<std::string, int> versions;
  std::map<std::string, Json> acls;
  // Every call fails UNAVAILABLE (the roomserver unreachable).
  bool down = false;
  std::set<std::string> stored = {"$root"};
  std::map<std::string, int> inputs;
  std::set<std::string> outliers;
  // Rooms known only from an invite.
  std::set<std::string> stateless;
  std::map<std::string, std::vector<std::string>> placed_with_state;
  // When set, Input waits for it (after notifying `entered`).
  absl::Notification* hold = nullptr;
  absl::Notification entered;
};

class MemoryTransactions : public TransactionStore {
 public:
  absl::StatusOr<std::optional<std::string>> Answer(const std::string& origin,
                                                    const std::string& txn_id) override {
    auto it = answers.find({origin, txn_id});
    if (it == answers.end()) return std::nullopt;
    return it->second;
  }
  absl::Status Record(const std::string& origin, const std::string& txn_id,
                      const std::string& answer, absl::Time) override {
    answers.emplace(std::make_pair(origin, txn_id), answer);
    return absl::OkStatus();
  }
  absl::Status Forget(absl::Time) override { return absl::OkStatus(); }
  std::map<std::pair<std::string, std::string>, std::string> answers;
};

class TransactionProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    remote_ = *matrix::GenerateSigningKey("r1");
    fetcher_.direct["remote.test"] =
        *matrix::BuildServerKeys("remote.test", remote_, clock_.Now() + absl::Hours(24));
    keyring_ = std::make_unique<Keyring>("us.test", ours_, keys_, fetcher_,
                                         std::vector<std::string>{}, clock_);
    rooms_.versions["!room:us.test"] = 10;
    processor_ = std::make_unique<TransactionProcessor>(*keyring_, rooms_, transactions_, &origin_,
                                                        clock_, counters_);
  }

  Json Event(const std::string& type, const std::string& prev, int depth,
             const std::string& room = "!room:us.test") {
    Json event = {{"room_id", room},
                  {"type", type},
                  {"sender", "@bob:remote.test"},
                  {"origin_server_ts", absl::ToUnixMillis(clock_.Now()) + depth},
                  {"depth", depth},
                  {"prev_events", {prev}},
                  {"auth_events", Json::array()},
                  {"content", {{"n", depth}}}};
    return *matrix::SignEvent(event, "remote.test", remote_, 10);
  }
  static std::string Id(const Json& e) { return *matrix::ComputeEventId(e, 10); }

  absl::StatusOr<Json> Send(const std::string& txn, Json pdus, Json extra = Json::object()) {
    Json body = {{"origin", "remote.test"}, {"origin_server_ts", 1}, {"pdus", std::move(pdus)}};
    body.update(extra);
    return processor_->Process("remote.test", txn, body);
  }

  SimulatedClock clock_;
  matrix::SigningKey ours_ = *matrix::GenerateSigningKey("us");
  matrix::SigningKey remote_;
  testing::FakeServerKeyStore keys_;
  testing::FakeKeyFetcher fetcher_;
  std::unique_ptr<Keyring> keyring_;
  FakeRooms rooms_;
  MemoryTransactions transactions_;
  periscope::testing::FakeFederation origin_;
  std::map<std::string, int> outcomes_;
  TransactionCounters counters_{[this](absl::string_view o) { ++outcomes_[std::string(o)]; }};
  std::unique_ptr<TransactionProcessor> processor_;
};

TEST_F(TransactionProcessorTest, EachPduGetsItsOutcome) {
  Json ok = Event("m.room.message", "$root", 2);
  Json rejected = Event("test.rejected", "$root", 2);
  Json soft = Event("test.soft_failed", "$root", 2);
  Json unsigned_pdu = Event("m.room.message", "$root", 3);
  unsigned_pdu.erase("signatures");
  Json elsewhere = Event("m.room.message", "$root", 2, "!unknown:us.test");
  auto answer = Send("t1", {ok, rejected, soft, unsigned_pdu, elsewhere, "not an event"});
  ASSERT_TRUE(answer.ok()) << answer.status();
  const Json& pdus = (*answer)["pdus"];
  EXPECT_EQ(pdus[Id(ok)], Json::object());
  EXPECT_EQ(pdus[Id(rejected)]["error"], "not allowed");
  EXPECT_EQ(pdus[Id(soft)], Json::object());  // soft failure is our own business
  EXPECT_TRUE(pdus[Id(unsigned_pdu)].contains("error"));
  EXPECT_FALSE(pdus.contains(Id(elsewhere)));  // a room we are not in: ignored
  EXPECT_EQ(pdus.size(), 4u);
  EXPECT_EQ(rooms_.inputs.count(Id(unsigned_pdu)), 0u);
  EXPECT_EQ(outcomes_["accepted"], 1);
  EXPECT_EQ(outcomes_["rejected"], 1);
  EXPECT_EQ(outcomes_["soft_failed"], 1);
  EXPECT_EQ(outcomes_["dropped"], 2);
  EXPECT_EQ(outcomes_["ignored"], 1);
}

// A PDU of a room one of our users is joining (the room unknown here until the join is in) is
// parked, not ignored: once the join is in, it is processed like a PDU just received. Other rooms'
// PDUs in the same transaction are processed at once.
TEST_F(TransactionProcessorTest, APduOfARoomBeingJoinedWaitsForTheJoinAndIsNotLost) {
  RoomsBeingJoined being_joined;
  TransactionProcessor processor(*keyring_, rooms_, transactions_, &origin_, clock_, counters_,
                                 &being_joined);
  being_joined.Begin("!new:remote.test");
  Json early = Event("m.room.message", "$root", 2, "!new:remote.test");
  Json here = Event("m.room.message", "$root", 2);
  Json body = {{"origin", "remote.test"}, {"pdus", {early, here}}};
  absl::StatusOr<Json> answer = processor.Process("remote.test", "t1", body);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_FALSE((*answer)["pdus"].contains(Id(early)));
  EXPECT_EQ((*answer)["pdus"][Id(here)], Json::object());
  EXPECT_EQ(rooms_.inputs.count(Id(early)), 0u);
  EXPECT_EQ(outcomes_["parked"], 1);

  // The join is in: the room is known, and what was parked is processed.
  rooms_.versions["!new:remote.test"] = 10;
  std::vector<RoomsBeingJoined::Parked> parked = being_joined.Finish("!new:remote.test", true);
  ASSERT_EQ(parked.size(), 1u);
  const auto never = [] { return false; };
  EXPECT_TRUE(processor.ProcessParked(parked, never).empty());
  EXPECT_TRUE(rooms_.stored.contains(Id(early)));
  EXPECT_EQ(outcomes_["accepted"], 2);
  // Stopping: nothing more is started.
  Json late = Event("m.room.message", Id(early), 3, "!new:remote.test");
  EXPECT_TRUE(processor.ProcessParked({{"remote.test", late}}, [] { return true; }).empty());
  EXPECT_EQ(rooms_.inputs.count(Id(late)), 0u);
  // An outage (the roomserver unreachable) gives the PDU back, to be tried again.
  rooms_.down = true;
  std::vector<RoomsBeingJoined::Parked> again =
      processor.ProcessParked({{"remote.test", late}}, never);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].pdu, late);
}

TEST_F(TransactionProcessorTest, AReplayedTransactionGetsTheFirstAnswerAndStoresNothingTwice) {
  Json event = Event("m.room.message", "$root", 2);
  auto first = Send("t1", {event});
  ASSERT_TRUE(first.ok());
  for (int i = 0; i < 100; ++i) {
    auto again = Send("t1", {event});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *first);
  }
  EXPECT_EQ(rooms_.inputs[Id(event)], 1);
  // The same event in another transaction reaches the roomserver, which deduplicates by id.
  ASSERT_TRUE(Send("t2", {event}).ok());
  EXPECT_EQ(rooms_.inputs[Id(event)], 2);
}

TEST_F(TransactionProcessorTest, MalformedTransactionsAreRefusedWhole) {
  Json many = Json::array();
  for (int i = 0; i < 51; ++i) many.push_back(Event("m.room.message", "$root", i + 2));
  auto too_many = Send("t1", many);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  Json edus = Json::array();
  for (int i = 0; i < 101; ++i)
    edus.push_back({{"edu_type", "m.typing"}, {"content", Json::object()}});
  EXPECT_EQ(Send("t2", Json::array(), {{"edus", edus}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(processor_->Process("remote.test", "t3", Json::array()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(processor_->Process("remote.test", "t4", {{"pdus", "x"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(rooms_.inputs.empty());
  EXPECT_TRUE(transactions_.answers.empty());  // nothing recorded: a fixed retry is processed
}

TEST_F(TransactionProcessorTest, AServerTheRoomsAclDeniesGetsAnErrorAndNothingStored) {
  rooms_.acls["!room:us.test"] = {{"allow", {"*"}}, {"deny", {"remote.test"}}};
  Json event = Event("m.room.message", "$root", 2);
  auto answer = Send("t1", {event});
  ASSERT_TRUE(answer.ok());
  EXPECT_NE((*answer)["pdus"][Id(event)]["error"].get<std::string>().find("ACL"),
            std::string::npos);
  EXPECT_TRUE(rooms_.inputs.empty());
}

TEST_F(TransactionProcessorTest, MissingPrevEventsAreFetchedFromTheOriginOldestFirst) {
  Json a = Event("m.room.message", "$root", 2);
  Json b = Event("m.room.message", Id(a), 3);
  Json c = Event("m.room.message", Id(b), 4);
  origin_.On("remote.test", "/_matrix/federation/v1/get_missing_events/",
             periscope::testing::FakeFederation::Answer(200, {{"events", {b, a}}}));
  auto answer = Send("t1", {c});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ((*answer)["pdus"][Id(c)], Json::object());
  EXPECT_TRUE(rooms_.stored.contains(Id(a)));
  EXPECT_TRUE(rooms_.stored.contains(Id(b)));
  ASSERT_EQ(origin_.calls().size(), 1u);
  EXPECT_EQ(origin_.calls()[0].target,
            "/_matrix/federation/v1/get_missing_events/%21room%3Aus.test");
  EXPECT_EQ((*origin_.calls()[0].body)["latest_events"], Json({Id(c)}));
}

TEST_F(TransactionProcessorTest, PrevEventsThatCannotBeFetchedLeaveAnErrorNotASilentLoss) {
  Json orphan = Event("m.room.message", "$never-seen", 2);
  auto answer = Send("t1", {orphan});
  ASSERT_TRUE(answer.ok());
  EXPECT_TRUE((*answer)["pdus"][Id(orphan)].contains("error"));
  EXPECT_FALSE(rooms_.stored.contains(Id(orphan)));
  EXPECT_EQ(outcomes_["missing_prevs"], 1);
}

TEST_F(TransactionProcessorTest, ForgedAncestorsFromGetMissingEventsAreNotInput) {
  Json a = Event("m.room.message", "$root", 2);
  Json forged_a = a;
  // The same event id, but a signature that does not verify (another key's, same length).
  matrix::SigningKey other = *matrix::GenerateSigningKey("r1");
  Json resigned = a;
  resigned.erase("signatures");
  forged_a["signatures"] = (*matrix::SignEvent(resigned, "remote.test", other, 10))["signatures"];
  ASSERT_EQ(Id(forged_a), Id(a));
  Json b = Event("m.room.message", Id(a), 3);
  origin_.On("remote.test", "/_matrix/federation/v1/get_missing_events/",
             periscope::testing::FakeFederation::Answer(200, {{"events", {forged_a}}}));
  auto answer = Send("t1", {b});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(rooms_.inputs.count(Id(a)), 0u);
  EXPECT_FALSE(rooms_.stored.contains(Id(a)));
  EXPECT_TRUE((*answer)["pdus"][Id(b)].contains("error"));
}

TEST_F(TransactionProcessorTest, AnotherTransactionFromTheSameOriginMeanwhileIsToldToComeBack) {
  absl::Notification release;
  rooms_.hold = &release;
  Json event = Event("m.room.message", "$root", 2);
  absl::StatusOr<Json> first;
  std::thread sender([&] { first = Send("t1", {event}); });
  rooms_.entered.WaitForNotification();
  auto meanwhile = Send("t2", {Event("m.room.message", "$root", 3)});
  EXPECT_EQ(meanwhile.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(MatrixErrcode(meanwhile.status()), "M_LIMIT_EXCEEDED");
  auto retry = Send("t1", {event});  // the same one again: also told to come back, not blocked
  EXPECT_EQ(retry.status().code(), absl::StatusCode::kResourceExhausted);
  release.Notify();
  sender.join();
  ASSERT_TRUE(first.ok());
  rooms_.hold = nullptr;
  auto later = Send("t1", {event});  // afterwards the recorded answer
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(*later, *first);
  EXPECT_EQ(rooms_.inputs[Id(event)], 1);
}

TEST_F(TransactionProcessorTest, MissingEventsAreFetchedOncePerRoomAndNoMoreThanTheLimit) {
  std::vector<Json> chain;
  std::string prev = "$root";
  for (int i = 0; i < 30; ++i) {
    chain.push_back(Event("m.room.message", prev, i + 2));
    prev = Id(chain.back());
  }
  Json orphan1 = Event("m.room.message", prev, 40);
  Json orphan2 = Event("m.room.message", Id(chain[5]), 41);
  Json all = Json::array();
  for (const Json& e : chain) all.push_back(e);
  origin_.On("remote.test", "/_matrix/federation/v1/get_missing_events/",
             periscope::testing::FakeFederation::Answer(200, {{"events", all}}));
  auto answer = Send("t1", {orphan1, orphan2});
  ASSERT_TRUE(answer.ok());
  // One fetch for the room, not one per PDU (and one ask for the state at the gap, which this
  // origin does not answer).
  ASSERT_EQ(origin_.calls().size(), 2u);
  EXPECT_NE(origin_.calls()[1].target.find("/_matrix/federation/v1/state/"), std::string::npos);
  int input = 0;
  for (const Json& e : chain) input += rooms_.inputs.count(Id(e));
  EXPECT_EQ(input, TransactionProcessor::kMissingEventsLimit);  // 30 sent, 10 taken
  EXPECT_EQ(outcomes_["accepted"], 1);                          // orphan2 (its prev is in now)
  EXPECT_EQ(outcomes_["missing_prevs"], 1);                     // orphan1 (20 more were needed)
}

// A gap get_missing_events cannot fill: the origin's state before the event is fetched (/state),
// checked, input as outliers, and the event placed with it. A state that does not verify, or that
// names another room version, places nothing.
class GapTest : public TransactionProcessorTest {
 protected:
  Json Create(const std::string& version = "10") {
    Json event = {{"room_id", "!room:us.test"},
                  {"type", "m.room.create"},
                  {"state_key", ""},
                  {"sender", "@bob:remote.test"},
                  {"origin_server_ts", 1},
                  {"depth", 1},
                  {"prev_events", Json::array()},
                  {"auth_events", Json::array()},
                  {"content", {{"creator", "@bob:remote.test"}, {"room_version", version}}}};
    return *matrix::SignEvent(event, "remote.test", remote_, 10);
  }
  void AnswerState(const Json& pdus) {
    origin_.On("remote.test", "/_matrix/federation/v1/get_missing_events/",
               periscope::testing::FakeFederation::Answer(200, {{"events", Json::array()}}));
    origin_.On("remote.test", "/_matrix/federation/v1/state/",
               periscope::testing::FakeFederation::Answer(
                   200, {{"pdus", pdus}, {"auth_chain", Json::array()}}));
  }
};

TEST_F(GapTest, AGapIsCrossedWithTheStateTheOriginGivesBeforeTheEvent) {
  Json create = Create();
  AnswerState(Json::array({create}));
  Json orphan = Event("m.room.message", "$never-seen", 9);
  auto answer = Send("t1", {orphan});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ((*answer)["pdus"][Id(orphan)], Json::object());
  EXPECT_EQ(rooms_.placed_with_state[Id(orphan)], std::vector<std::string>{Id(create)});
  EXPECT_TRUE(rooms_.outliers.contains(Id(create)));
  EXPECT_EQ(outcomes_["accepted"], 1);
  const auto calls = origin_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].target, "/_matrix/federation/v1/state/%21room%3Aus.test?event_id=" +
                                 federation::EncodePathArg(Id(orphan)));
}

TEST_F(GapTest, NothingIsFetchedForARoomKnownOnlyFromAnInvite) {
  rooms_.stateless.insert("!room:us.test");
  AnswerState(Json::array({Create()}));
  Json orphan = Event("m.room.message", "$never-seen", 9);
  auto answer = Send("t1", {orphan});
  ASSERT_TRUE(answer.ok());
  EXPECT_TRUE((*answer)["pdus"][Id(orphan)].contains("error"));
  EXPECT_TRUE(origin_.calls().empty());
  EXPECT_TRUE(rooms_.outliers.empty());
}

TEST_F(GapTest, AStateThatDoesNotVerifyPlacesNothing) {
  Json forged = Create();
  forged["content"]["creator"] = "@mallory:remote.test";  // altered after signing
  AnswerState(Json::array({forged}));
  Json orphan = Event("m.room.message", "$never-seen", 9);
  auto answer = Send("t1", {orphan});
  ASSERT_TRUE(answer.ok());
  EXPECT_TRUE((*answer)["pdus"][Id(orphan)].contains("error"));
  EXPECT_TRUE(rooms_.outliers.empty());
  EXPECT_FALSE(rooms_.stored.contains(Id(orphan)));
  EXPECT_EQ(outcomes_["missing_prevs"], 1);
}

TEST_F(GapTest, AStateNamingAnotherRoomVersionPlacesNothing) {
  AnswerState(Json::array({Create("9")}));
  Json orphan = Event("m.room.message", "$never-seen", 9);
  auto answer = Send("t1", {orphan});
  ASSERT_TRUE(answer.ok());
  EXPECT_TRUE((*answer)["pdus"][Id(orphan)].contains("error"));
  EXPECT_TRUE(rooms_.outliers.empty());
  EXPECT_FALSE(rooms_.stored.contains(Id(orphan)));
}

}  // namespace
}  // namespace periscope::federationapi
