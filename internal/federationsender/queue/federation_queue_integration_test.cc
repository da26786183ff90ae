// The destination queues on a real PostgreSQL, with a faked destination: the interleavings
// end-to-end tests hit only by luck. What must not happen: an event queued twice (a redelivered
// output message, even behind newer ones), a transaction sent under a new id after a crash
// between sending it and recording the answer (the receiver could not deduplicate it), PDUs
// dropped on a failure, an event sent back to the server it came from, a destination blocked
// for good.

#include <map>

#include "gtest/gtest.h"
#include "internal/federationsender/consumer/output_consumer.h"
#include "internal/federationsender/peeks/outbound_peeks.h"
#include "internal/federationsender/queue/transaction_sender.h"
#include "internal/federationsender/storage/pg_queue_store.h"
#include "internal/roomserver/api/output_stream.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/matrix/canonical_json.h"
#include "tests/testing/fake_federation.h"
#include "tests/testing/test_services.h"

namespace periscope::federationsender {
namespace {

using matrix::Json;
using periscope::testing::FakeFederation;

class FederationQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = periscope::testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto pool = pg::Pool::Create({.dsn = db_->dsn()});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    ASSERT_TRUE(pg::ApplyMigrations(*pool_, "federationsender", FederationSenderMigrations()).ok());
    store_ = std::make_unique<PgQueueStore>(*pool_);
    sender_ = std::make_unique<TransactionSender>(*store_, remote_, "a.test", clock_);
    consumer_ = std::make_unique<OutputConsumer>("a.test", *store_,
                                                 [this](const std::vector<std::string>& d) {
                                                   for (const auto& x : d) ++notified_[x];
                                                 });
  }

  // Hands one output-stream message to the consumer, as the stream would.
  stream::Outcome Handle(const roomserver::v1::OutputEvent& output) {
    std::string payload = roomserver::EncodeOutputPayload(output);
    stream::Message message;
    message.data = payload;  // a view of payload
    return consumer_->Handle(message);
  }

  // The output message of `room`'s event number `seq`.
  stream::Outcome Deliver(int64_t seq, const std::string& sender, const std::string& type,
                          std::optional<std::string> state_key = std::nullopt,
                          Json content = Json::object(), bool from_federation = false) {
    Json event = {{"room_id", "!r:a.test"}, {"type", type}, {"sender", sender},
                  {"content", content},     {"depth", seq}, {"origin_server_ts", seq}};
    if (state_key) event["state_key"] = *state_key;
    roomserver::v1::OutputEvent output;
    output.set_room_id("!r:a.test");
    output.set_room_sequence(seq);
    auto* added = output.mutable_new_room_event();
    added->set_event_id(absl::StrCat("$e", seq));
    added->set_event_json(event.dump());
    added->set_from_federation(from_federation);
    if (state_key) added->add_adds_state_event_ids(absl::StrCat("$e", seq));
    return Handle(output);
  }
  stream::Outcome Join(int64_t seq, const std::string& user, bool from_federation) {
    return Deliver(seq, user, "m.room.member", user, {{"membership", "join"}}, from_federation);
  }

  // Events the destination received, in order, per /send call.
  std::vector<std::string> SentTo(const std::string& destination) {
    std::vector<std::string> out;
    for (const auto& call : remote_.calls()) {
      if (call.destination != destination) continue;
      for (const auto& pdu : (*call.body)["pdus"]) out.push_back(pdu["depth"].dump());
    }
    return out;
  }

  std::unique_ptr<periscope::testing::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgQueueStore> store_;
  SimulatedClock clock_;
  FakeFederation remote_;
  std::unique_ptr<TransactionSender> sender_;
  std::unique_ptr<OutputConsumer> consumer_;
  std::map<std::string, int> notified_;
};

TEST_F(FederationQueueTest, OurEventsGoToEveryOtherJoinedServerOnceAndInOrder) {
  remote_.On("b.test", "/_matrix/federation/v1/send/",
             FakeFederation::Answer(200, {{"pdus", Json::object()}}));
  remote_.On("c.test", "/_matrix/federation/v1/send/",
             FakeFederation::Answer(200, {{"pdus", Json::object()}}));
  ASSERT_EQ(Join(1, "@alice:a.test", false).kind, stream::Outcome::Kind::kAck);
  Join(2, "@bob:b.test", true);  // came from b.test: not sent (b.test sends it)
  Join(3, "@carol:c.test", true);
  Deliver(4, "@alice:a.test", "m.room.message");
  Deliver(5, "@bob:b.test", "m.room.message", std::nullopt, Json::object(), true);
  Deliver(6, "@alice:a.test", "m.room.message");
  EXPECT_EQ(notified_["b.test"], 2);
  EXPECT_EQ(notified_["c.test"], 2);
  EXPECT_EQ(*sender_->SendOnce("b.test"), TransactionSender::Result::kSent);
  EXPECT_EQ(*sender_->SendOnce("b.test"), TransactionSender::Result::kIdle);
  EXPECT_EQ(*sender_->SendOnce("c.test"), TransactionSender::Result::kSent);
  EXPECT_EQ(SentTo("b.test"), (std::vector<std::string>{"4", "6"}));
  EXPECT_EQ(SentTo("c.test"), (std::vector<std::string>{"4", "6"}));
  EXPECT_EQ(*store_->QueuedPdus(), 0);
}

// The roomserver's events, as a federated join's state brings them in.
class FakeLookup : public roomserver::EventLookup {
 public:
  absl::StatusOr<std::vector<roomserver::LookedUpEvent>> EventsById(
      const std::vector<std::string>& ids) override {
    if (failures > 0) {
      --failures;
      return absl::UnavailableError("roomserver down");
    }
    std::vector<roomserver::LookedUpEvent> out;
    for (const std::string& id : ids) {
      if (auto it = events.find(id); it != events.end())
        out.push_back({id, "!r:a.test", it->second});
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> StateAfter(const std::string&, const std::string&,
                                                      int64_t) override {
    return state_after;
  }
  std::map<std::string, std::string> events;
  std::vector<std::string> state_after;
  int failures = 0;
};

// Joining a room over federation brings in its members as state the stream never carried: the
// servers of the joined ones are then destinations, the others not.
TEST_F(FederationQueueTest, AFederatedJoinsStateSaysWhichServersAreInTheRoom) {
  FakeLookup lookup;
  lookup.events["$bob"] = Json{{"type", "m.room.member"},
                               {"state_key", "@bob:b.test"},
                               {"sender", "@bob:b.test"},
                               {"content", {{"membership", "join"}}}}
                              .dump();
  lookup.events["$carol"] = Json{{"type", "m.room.member"},
                                 {"state_key", "@carol:c.test"},
                                 {"sender", "@carol:c.test"},
                                 {"content", {{"membership", "leave"}}}}
                                .dump();
  lookup.events["$name"] = Json{
      {"type", "m.room.name"},
      {"state_key", ""},
      {"sender", "@bob:b.test"},
      {"content",
       {{"name", "x"}}}}.dump();
  lookup.failures = 1;  // retried in place
  consumer_ = std::make_unique<OutputConsumer>("a.test", *store_, nullptr, absl::Milliseconds(1));
  consumer_->set_lookup(&lookup);
  // Our join came back from the roomserver as a federated event naming the state it brought.
  Json join = {{"room_id", "!r:a.test"},
               {"type", "m.room.member"},
               {"sender", "@alice:a.test"},
               {"state_key", "@alice:a.test"},
               {"content", {{"membership", "join"}}}};
  roomserver::v1::OutputEvent output;
  output.set_room_id("!r:a.test");
  output.set_room_sequence(1);
  auto* added = output.mutable_new_room_event();
  added->set_event_id("$e1");
  added->set_event_json(join.dump());
  added->set_from_federation(true);
  // A whole state (state_reset): the consumer reads it from the roomserver.
  added->set_state_reset(true);
  lookup.state_after = {"$bob", "$carol", "$name", "$e1"};
  ASSERT_EQ(Handle(output).kind, stream::Outcome::Kind::kAck);
  EXPECT_EQ(*store_->JoinedServers("!r:a.test"), (std::vector<std::string>{"a.test", "b.test"}));
}

// A join another server sent through us (send_join) goes to the room's other servers, never back.
TEST_F(FederationQueueTest, AJoinSentThroughUsIsRelayedButNotToItsOrigin) {
  Join(1, "@alice:a.test", false);
  Join(2, "@carol:c.test", true);
  Join(3, "@bob:b.test", true);  // b.test is in the room already
  Json join = {{"room_id", "!r:a.test"},
               {"type", "m.room.member"},
               {"sender", "@dave:b.test"},
               {"state_key", "@dave:b.test"},
               {"content", {{"membership", "join"}}},
               {"depth", 4}};
  roomserver::v1::OutputEvent output;
  output.set_room_id("!r:a.test");
  output.set_room_sequence(4);
  auto* added = output.mutable_new_room_event();
  added->set_event_id("$e4");
  added->set_event_json(join.dump());
  added->set_from_federation(true);
  added->set_send_on_behalf_of("b.test");
  added->add_adds_state_event_ids("$e4");
  ASSERT_EQ(Handle(output).kind, stream::Outcome::Kind::kAck);
  EXPECT_EQ(notified_["c.test"], 1);
  EXPECT_EQ(notified_.count("b.test"), 0u);
  remote_.On("c.test", "/_matrix/federation/v1/send/",
             FakeFederation::Answer(200, {{"pdus", Json::object()}}));
  EXPECT_EQ(*sender_->SendOnce("c.test"), TransactionSender::Result::kSent);
  EXPECT_EQ(SentTo("c.test"), (std::vector<std::string>{"4"}));
  EXPECT_EQ(*sender_->SendOnce("b.test"), TransactionSender::Result::kIdle);
}

TEST_F(FederationQueueTest, ARedeliveredMessageQueuesNothingEvenBehindNewerOnes) {
  Join(1, "@alice:a.test", false);
  Join(2, "@bob:b.test", true);
  Deliver(3, "@alice:a.test", "m.room.message");
  Deliver(4, "@alice:a.test", "m.room.message");
  EXPECT_EQ(*store_->QueuedPdus(), 2);
  Deliver(3, "@alice:a.test", "m.room.message");  // a redelivery after a lost ack
  Deliver(2, "@bob:b.test", "m.room.member", "@bob:b.test", {{"membership", "leave"}}, true);
  EXPECT_EQ(*store_->QueuedPdus(), 2);
  EXPECT_EQ(*store_->JoinedServers("!r:a.test"), (std::vector<std::string>{"a.test", "b.test"}));
}

TEST_F(FederationQueueTest, AServerStillGetsTheEventThatRemovesItsLastMember) {
  Join(1, "@alice:a.test", false);
  Join(2, "@bob:b.test", true);
  Deliver(3, "@alice:a.test", "m.room.member", "@bob:b.test", {{"membership", "ban"}});
  Deliver(4, "@alice:a.test", "m.room.message");
  EXPECT_EQ(notified_["b.test"], 1);  // the ban, not the message after it
  EXPECT_EQ(*store_->QueuedPdus(), 1);
}

TEST_F(FederationQueueTest, AfterACrashBetweenSendingAndRecordingTheSameTransactionIsSentAgain) {
  Join(1, "@alice:a.test", false);
  Join(2, "@bob:b.test", true);
  Deliver(3, "@alice:a.test", "m.room.message");
  // The first attempt reaches b.test, but its answer is lost (the connection breaks).
  remote_.On("b.test", "/_matrix/federation/v1/send/",
             [](const FakeFederation::Request&) -> absl::StatusOr<federation::FederationResponse> {
               return absl::UnavailableError("connection reset");
             });
  EXPECT_EQ(*sender_->SendOnce("b.test"), TransactionSender::Result::kFailed);
  Deliver(4, "@alice:a.test", "m.room.message");  // queued meanwhile
  // The process restarts: a new sender (a new txn id counter), the same store.
  FakeFederation up;
  up.On("b.test", "/_matrix/federation/v1/send/",
        FakeFederation::Answer(200, {{"pdus", Json::object()}}));
  SimulatedClock later(clock_.Now() + absl::Hours(2));
  TransactionSender restarted(*store_, up, "a.test", later);
  EXPECT_EQ(*restarted.SendOnce("b.test"), TransactionSender::Result::kSent);
  ASSERT_EQ(up.calls().size(), 1u);
  EXPECT_EQ(up.calls()[0].target, remote_.calls()[0].target);                  // the same txn id
  EXPECT_EQ((*up.calls()[0].body)["pdus"].size(), 1u);                         // and the same PDUs
  EXPECT_EQ(*restarted.SendOnce("b.test"), TransactionSender::Result::kSent);  // then event 4
  EXPECT_NE(up.calls()[1].target, up.calls()[0].target);
  EXPECT_EQ(*restarted.SendOnce("b.test"), TransactionSender::Result::kIdle);
}

TEST_F(FederationQueueTest, AFailingDestinationBacksOffExponentiallyCappedAndAWakeEndsIt) {
  Join(1, "@alice:a.test", false);
  Join(2, "@bob:b.test", true);
  Deliver(3, "@alice:a.test", "m.room.message");
  remote_.On("b.test", "/", FakeFederation::Answer(500, {{"errcode", "M_UNKNOWN"}}));
  EXPECT_EQ(*sender_->SendOnce("b.test"), TransactionSender::Result::kFailed);
  EXPECT_EQ(*sender_->SendOnce("b.test"), TransactionSender::Result::kBackingOff);
  EXPECT_EQ(*sender_->RetryAt("b.test"), clock_.Now() + TransactionSender::kFirstBackoff);
  EXPECT_EQ(*store_->DestinationsInBackoff(clock_.Now()), 1);
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(absl::Hours(2));
    EXPECT_EQ(*sender_->SendOnce("b.test"), TransactionSender::Result::kFailed);
  }
  // Never more than the cap, never a permanent block.
  EXPECT_EQ(*sender_->RetryAt("b.test"), clock_.Now() + absl::Hours(1));
  EXPECT_EQ(*store_->QueuedPdus(), 1);  // nothing was dropped
  EXPECT_EQ(sender_->BackoffAfter(1), absl::Seconds(2));
  EXPECT_EQ(sender_->BackoffAfter(3), absl::Seconds(8));
  EXPECT_TRUE(*sender_->Wake("b.test"));
  EXPECT_FALSE(*sender_->Wake("c.test"));  // never failed: nothing to wake, nothing written
  EXPECT_EQ(*sender_->RetryAt("b.test"), absl::InfinitePast());
  EXPECT_EQ(*store_->DestinationsInBackoff(clock_.Now()), 0);
}

TEST_F(FederationQueueTest, TransactionsCarryAtMostFiftyPdus) {
  remote_.On("b.test", "/", FakeFederation::Answer(200, {{"pdus", Json::object()}}));
  Join(1, "@alice:a.test", false);
  Join(2, "@bob:b.test", true);
  for (int i = 3; i < 3 + 120; ++i) Deliver(i, "@alice:a.test", "m.room.message");
  // Only the last says it emptied the queue: a sender stops there without looking again.
  std::vector<bool> drained;
  bool d = false;
  while (*sender_->SendOnce("b.test", &d) == TransactionSender::Result::kSent) drained.push_back(d);
  EXPECT_EQ(drained, (std::vector<bool>{false, false, true}));
  for (const auto& call : remote_.calls()) EXPECT_LE((*call.body)["pdus"].size(), 50u);
  std::vector<std::string> sent = SentTo("b.test");
  ASSERT_EQ(sent.size(), 120u);
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(sent[i], std::to_string(i + 3));
}

TEST_F(FederationQueueTest, TransactionsStayUnderTheBodyLimitReceiversApply) {
  remote_.On("b.test", "/", FakeFederation::Answer(200, {{"pdus", Json::object()}}));
  Join(1, "@alice:a.test", false);
  Join(2, "@bob:b.test", true);
  const std::string big(60 * 1024, 'x');
  for (int i = 3; i < 3 + 40; ++i) {
    Deliver(i, "@alice:a.test", "m.room.message", std::nullopt, {{"body", big}});
  }
  while (*sender_->SendOnce("b.test") == TransactionSender::Result::kSent) {
  }
  size_t total = 0;
  for (const auto& call : remote_.calls()) {
    EXPECT_LE(call.body->dump().size(), static_cast<size_t>(kMaxTransactionBytes) + 4096);
    total += (*call.body)["pdus"].size();
  }
  EXPECT_EQ(total, 40u);
  EXPECT_GE(remote_.calls().size(), 4u);
}

// Inbound peeks (MSC2444): the peek's place in the room's stream decides what it gets.
class InboundPeekRelayTest : public FederationQueueTest {
 protected:
  void SetUp() override {
    FederationQueueTest::SetUp();
    for (const char* server : {"b.test", "c.test", "p.test"}) {
      remote_.On(server, "/_matrix/federation/v1/send/",
                 FakeFederation::Answer(200, {{"pdus", Json::object()}}));
    }
  }
  // The new_inbound_peek message at `seq` of the room's stream.
  stream::Outcome Peek(int64_t seq, const std::string& server, const std::string& peek_id,
                       int64_t peeked_ts = 1000, int64_t interval_ms = 60000) {
    roomserver::v1::OutputEvent output;
    output.set_room_id("!r:a.test");
    output.set_room_sequence(seq);
    auto* peek = output.mutable_new_inbound_peek();
    peek->set_server_name(server);
    peek->set_peek_id(peek_id);
    peek->set_latest_event_id(absl::StrCat("$e", seq - 1));
    peek->set_peeked_ts(peeked_ts);
    peek->set_renewal_interval_ms(interval_ms);
    return Handle(output);
  }
  // The retire_inbound_peek message at `seq`: a DELETE that came before the peek was registered.
  stream::Outcome EndPeek(int64_t seq, const std::string& server, const std::string& peek_id) {
    roomserver::v1::OutputEvent output;
    output.set_room_id("!r:a.test");
    output.set_room_sequence(seq);
    output.mutable_retire_inbound_peek()->set_server_name(server);
    output.mutable_retire_inbound_peek()->set_peek_id(peek_id);
    return Handle(output);
  }
  void SendAll(const std::string& destination) {
    for (int i = 0; i < 10; ++i) {
      absl::StatusOr<TransactionSender::Result> r = sender_->SendOnce(destination);
      ASSERT_TRUE(r.ok()) << r.status();
      if (*r == TransactionSender::Result::kIdle) return;
    }
    FAIL() << "the queue of " << destination << " did not drain";
  }
  // The expired_peeks the destination was told, "room/peek" each, in order.
  std::vector<std::string> ExpiredTold(const std::string& destination) {
    std::vector<std::string> out;
    for (const auto& call : remote_.calls()) {
      if (call.destination != destination || !call.body->contains("expired_peeks")) continue;
      for (const auto& p : (*call.body)["expired_peeks"]) {
        out.push_back(
            absl::StrCat(p["room_id"].get<std::string>(), "/", p["peek_id"].get<std::string>()));
      }
    }
    return out;
  }
};

// A DELETE the registry could not match yet ends the peek at its place in the room's stream: a
// start ahead of it is undone (nothing relayed after it, and no expired_peeks: the server asked),
// a start after it (the same id PUT again) is a new peek, and a redelivered end changes nothing.
TEST_F(InboundPeekRelayTest, AnEndInTheStreamUndoesOnlyTheStartBeforeIt) {
  Join(1, "@alice:a.test", false);
  ASSERT_EQ(Peek(2, "p.test", "pk").kind, stream::Outcome::Kind::kAck);
  ASSERT_EQ(EndPeek(3, "p.test", "pk").kind, stream::Outcome::Kind::kAck);
  EXPECT_TRUE(store_->InboundPeeks("", "p.test", "")->empty());
  Deliver(4, "@alice:a.test", "m.room.message");
  ASSERT_EQ(Peek(5, "p.test", "pk").kind, stream::Outcome::Kind::kAck);
  ASSERT_EQ(EndPeek(3, "p.test", "pk").kind, stream::Outcome::Kind::kAck);  // redelivered
  Deliver(6, "@alice:a.test", "m.room.message");
  SendAll("p.test");
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"6"}));
  EXPECT_TRUE(ExpiredTold("p.test").empty());
  EXPECT_EQ(store_->InboundPeeks("", "p.test", "")->size(), 1u);
}

TEST_F(InboundPeekRelayTest, APeekGetsEveryEventAfterItsPlaceFromAnyServerAndNoneBefore) {
  Join(1, "@alice:a.test", false);
  Join(2, "@carol:c.test", true);
  Deliver(3, "@alice:a.test", "m.room.message");  // before the peek: in its snapshot
  ASSERT_EQ(Peek(4, "p.test", "pk1").kind, stream::Outcome::Kind::kAck);
  Deliver(5, "@alice:a.test", "m.room.message");
  // From a third server: its origin does not know p.test, so we relay it.
  Deliver(6, "@carol:c.test", "m.room.message", std::nullopt, Json::object(), true);
  SendAll("p.test");
  SendAll("c.test");
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"5", "6"}));
  EXPECT_EQ(SentTo("c.test"), (std::vector<std::string>{"3", "5"}))
      << "ours, but not c.test's own event back";
  EXPECT_EQ(*store_->InboundPeekCount(), 1);
}

TEST_F(InboundPeekRelayTest, AServerThatIsJoinedAndPeekingGetsEachEventOnce) {
  Join(1, "@alice:a.test", false);
  Join(2, "@bob:b.test", true);
  Peek(3, "b.test", "one");
  Peek(4, "b.test", "two");  // a second peek of the same server
  Deliver(5, "@alice:a.test", "m.room.message");
  // b.test is joined: the origin (c.test, say) sends it its events, not us.
  Deliver(6, "@carol:c.test", "m.room.message", std::nullopt, Json::object(), true);
  SendAll("b.test");
  EXPECT_EQ(SentTo("b.test"), (std::vector<std::string>{"5"}));
}

TEST_F(InboundPeekRelayTest, AnEventIsNotRelayedBackToThePeekingServerItCameFrom) {
  Join(1, "@alice:a.test", false);
  Peek(2, "p.test", "pk");
  Deliver(3, "@pat:p.test", "m.room.message", std::nullopt, Json::object(), true);
  Deliver(4, "@alice:a.test", "m.room.message");
  SendAll("p.test");
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"4"}));
}

TEST_F(InboundPeekRelayTest, ARedeliveredPeekBehindLaterEventsChangesNothing) {
  Join(1, "@alice:a.test", false);
  Peek(2, "p.test", "pk", /*peeked_ts=*/1000);
  Deliver(3, "@alice:a.test", "m.room.message");
  // The peek's message comes again (its ack was lost), behind event 3.
  Peek(2, "p.test", "pk", /*peeked_ts=*/1000);
  Deliver(3, "@alice:a.test", "m.room.message");
  SendAll("p.test");
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(*store_->InboundPeekCount(), 1);
}

TEST_F(InboundPeekRelayTest, AnUnrenewedPeekIsEvictedToldOnceAndRelayedToNoMore) {
  Join(1, "@alice:a.test", false);
  Peek(2, "p.test", "pk", /*peeked_ts=*/1000, /*interval_ms=*/60000);
  Peek(3, "p.test", "kept", /*peeked_ts=*/1000, /*interval_ms=*/60000);
  // A renewal of one of them at 50 s keeps it to 110 s.
  ASSERT_TRUE(store_->RenewInboundPeek("!r:a.test", "p.test", "kept", 50000, 60000)->has_value());
  EXPECT_FALSE(store_->RenewInboundPeek("!r:a.test", "p.test", "none", 50000, 60000)->has_value());
  EXPECT_TRUE(store_->EvictInboundPeeks(61000)->empty()) << "not before the interval ends";
  EXPECT_EQ(*store_->EvictInboundPeeks(61001), (std::vector<std::string>{"p.test"}));
  EXPECT_TRUE(store_->EvictInboundPeeks(61001)->empty()) << "evicted once";
  SendAll("p.test");
  EXPECT_EQ(ExpiredTold("p.test"), (std::vector<std::string>{"!r:a.test/pk"}));
  ASSERT_EQ(remote_.calls().size(), 1u);
  EXPECT_TRUE((*remote_.calls()[0].body)["pdus"].empty()) << "a transaction of expired_peeks only";
  Deliver(4, "@alice:a.test", "m.room.message");  // still relayed to the renewed peek
  SendAll("p.test");
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"4"}));
  EXPECT_EQ(*store_->EvictInboundPeeks(110001), (std::vector<std::string>{"p.test"}));
  Deliver(5, "@alice:a.test", "m.room.message");
  SendAll("p.test");
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"4"})) << "no relay after eviction";
  EXPECT_EQ(ExpiredTold("p.test"), (std::vector<std::string>{"!r:a.test/pk", "!r:a.test/kept"}));
}

TEST_F(InboundPeekRelayTest, ExpiredPeeksAreToldAgainUnderTheSameTxnIdAfterAFailure) {
  Join(1, "@alice:a.test", false);
  Peek(2, "p.test", "pk", 1000, 1000);
  ASSERT_EQ(store_->EvictInboundPeeks(5000)->size(), 1u);
  FakeFederation down;
  down.On("p.test", "/_matrix/federation/v1/send/",
          [](const FakeFederation::Request&) -> absl::StatusOr<federation::FederationResponse> {
            return absl::UnavailableError("connection reset");
          });
  TransactionSender failing(*store_, down, "a.test", clock_);
  EXPECT_EQ(*failing.SendOnce("p.test"), TransactionSender::Result::kFailed);
  SimulatedClock later(clock_.Now() + absl::Hours(2));
  TransactionSender restarted(*store_, remote_, "a.test", later);
  EXPECT_EQ(*restarted.SendOnce("p.test"), TransactionSender::Result::kSent);
  EXPECT_EQ(*restarted.SendOnce("p.test"), TransactionSender::Result::kIdle);
  ASSERT_EQ(remote_.calls().size(), 1u);
  EXPECT_EQ(remote_.calls()[0].target, down.calls()[0].target);
  EXPECT_EQ(ExpiredTold("p.test"), (std::vector<std::string>{"!r:a.test/pk"}));
}

TEST_F(InboundPeekRelayTest, ARoomThatStopsBeingPeekableEndsItsPeeksAfterThatEvent) {
  Join(1, "@alice:a.test", false);
  Peek(2, "p.test", "pk");
  Deliver(3, "@alice:a.test", "m.room.history_visibility", "",
          {{"history_visibility", "world_readable"}});  // still peekable
  Deliver(4, "@alice:a.test", "m.room.history_visibility", "", {{"history_visibility", "shared"}});
  Deliver(5, "@alice:a.test", "m.room.message");
  SendAll("p.test");
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(ExpiredTold("p.test"), (std::vector<std::string>{"!r:a.test/pk"}));
  EXPECT_EQ(*store_->InboundPeekCount(), 0);
  // Encryption ends them the same way, even when it comes from another server.
  Peek(6, "p.test", "pk2");
  Deliver(7, "@carol:c.test", "m.room.encryption", "", {{"algorithm", "m.megolm.v1.aes-sha2"}},
          true);
  EXPECT_EQ(*store_->InboundPeekCount(), 0);
}

TEST_F(InboundPeekRelayTest, AServerTheAclComesToDenyLosesItsPeeksAndIsTold) {
  Join(1, "@alice:a.test", false);
  Peek(2, "p.test", "pk");
  Peek(3, "c.test", "pk");
  Deliver(4, "@alice:a.test", "m.room.server_acl", "", {{"allow", {"*"}}, {"deny", {"p.test"}}});
  Deliver(5, "@alice:a.test", "m.room.message");
  SendAll("p.test");
  SendAll("c.test");
  EXPECT_EQ(ExpiredTold("p.test"), (std::vector<std::string>{"!r:a.test/pk"}));
  EXPECT_TRUE(ExpiredTold("c.test").empty());
  EXPECT_EQ(SentTo("c.test"), (std::vector<std::string>{"4", "5"}));
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"4"})) << "nothing after the ACL";
  EXPECT_EQ(*store_->InboundPeekCount(), 1);
}

// State resolution may change the visibility or the ACL without the event that set it being the
// one the stream carries (a merge of branches brings it in): the peeks end all the same, after
// the event that merged it, and their servers are told.
TEST_F(InboundPeekRelayTest, AVisibilityOrAclMergedInByStateResolutionEndsPeeks) {
  FakeLookup lookup;
  lookup.events["$shared"] = Json{{"type", "m.room.history_visibility"},
                                  {"state_key", ""},
                                  {"sender", "@carol:c.test"},
                                  {"content", {{"history_visibility", "shared"}}}}
                                 .dump();
  lookup.events["$acl"] = Json{{"type", "m.room.server_acl"},
                               {"state_key", ""},
                               {"sender", "@carol:c.test"},
                               {"content", {{"allow", {"*"}}, {"deny", {"c.test"}}}}}
                              .dump();
  consumer_->set_lookup(&lookup);
  // (A second room, so the ACL's effect is seen apart from the visibility's.)
  auto merge = [&](const std::string& room, int64_t seq, const std::string& merged_id) {
    Json event = {{"room_id", room},
                  {"type", "m.room.message"},
                  {"sender", "@alice:a.test"},
                  {"content", Json::object()},
                  {"depth", seq},
                  {"origin_server_ts", seq}};
    roomserver::v1::OutputEvent output;
    output.set_room_id(room);
    output.set_room_sequence(seq);
    auto* added = output.mutable_new_room_event();
    added->set_event_id(absl::StrCat("$m", seq));
    added->set_event_json(event.dump());
    added->add_adds_state_event_ids(merged_id);
    return Handle(output);
  };
  Join(1, "@alice:a.test", false);
  Peek(2, "p.test", "pk");
  Peek(3, "c.test", "pk");
  ASSERT_EQ(merge("!r:a.test", 4, "$shared").kind, stream::Outcome::Kind::kAck);
  Deliver(5, "@alice:a.test", "m.room.message");
  SendAll("p.test");
  EXPECT_EQ(ExpiredTold("p.test"), (std::vector<std::string>{"!r:a.test/pk"}));
  EXPECT_EQ(SentTo("p.test"), (std::vector<std::string>{"4"})) << "nothing after the merge";
  EXPECT_EQ(*store_->InboundPeekCount(), 0);

  // The ACL, merged into another room, ends only the denied server's peek there.
  for (const char* server : {"p.test", "c.test"}) {
    roomserver::v1::OutputEvent output;
    output.set_room_id("!s:a.test");
    output.set_room_sequence(std::string(server) == "p.test" ? 1 : 2);
    output.mutable_new_inbound_peek()->set_server_name(server);
    output.mutable_new_inbound_peek()->set_peek_id("pk");
    output.mutable_new_inbound_peek()->set_peeked_ts(1000);
    output.mutable_new_inbound_peek()->set_renewal_interval_ms(60000);
    ASSERT_EQ(Handle(output).kind, stream::Outcome::Kind::kAck);
  }
  ASSERT_EQ(merge("!s:a.test", 3, "$acl").kind, stream::Outcome::Kind::kAck);
  EXPECT_EQ(store_->InboundPeeks("!s:a.test", "", "")->size(), 1u);
  EXPECT_EQ(store_->InboundPeeks("!s:a.test", "c.test", "")->size(), 0u);
}

// The relay lag is measured per PDU from the roomserver's write to the destination's 2xx, and
// says whether the destination only peeks the room.
TEST_F(InboundPeekRelayTest, TheRelayLagRunsFromTheWriteToTheAnswerPerKindOfDestination) {
  std::vector<std::pair<absl::Duration, bool>> lags;
  TransactionSenderCounters counters;
  counters.on_relayed = [&lags](absl::Duration lag, bool to_peeker) {
    lags.push_back({lag, to_peeker});
  };
  TransactionSender sender(*store_, remote_, "a.test", clock_, absl::Hours(1), counters);
  Join(1, "@alice:a.test", false);
  Join(2, "@carol:c.test", true);
  Peek(3, "p.test", "pk");
  roomserver::v1::OutputEvent output;
  output.set_room_id("!r:a.test");
  output.set_room_sequence(4);
  output.set_committed_ts(absl::ToUnixMillis(clock_.Now() - absl::Seconds(3)));
  auto* added = output.mutable_new_room_event();
  added->set_event_id("$e4");
  added->set_event_json(Json{
      {"room_id", "!r:a.test"},
      {"type", "m.room.message"},
      {"sender", "@alice:a.test"},
      {"content", Json::object()},
      {"depth", 4}}.dump());
  ASSERT_EQ(Handle(output).kind, stream::Outcome::Kind::kAck);
  ASSERT_EQ(*sender.SendOnce("p.test"), TransactionSender::Result::kSent);
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(*sender.SendOnce("c.test"), TransactionSender::Result::kSent);
  ASSERT_EQ(lags.size(), 2u);
  EXPECT_EQ(lags[0], std::make_pair(absl::Seconds(3), true));
  EXPECT_EQ(lags[1], std::make_pair(absl::Seconds(4), false));
}

TEST_F(InboundPeekRelayTest, ADeletedPeekGetsNothingMoreAndIsNotToldItExpired) {
  Join(1, "@alice:a.test", false);
  Peek(2, "p.test", "pk");
  EXPECT_TRUE(*store_->DeleteInboundPeek("!r:a.test", "p.test", "pk"));
  EXPECT_FALSE(*store_->DeleteInboundPeek("!r:a.test", "p.test", "pk"));
  Deliver(3, "@alice:a.test", "m.room.message");
  SendAll("p.test");
  EXPECT_TRUE(remote_.calls().empty());
}

TEST_F(InboundPeekRelayTest, QueriesFilterByRoomServerAndPeek) {
  Peek(1, "p.test", "a");
  Peek(2, "p.test", "b");
  Peek(3, "c.test", "a");
  EXPECT_EQ(store_->InboundPeeks("", "p.test", "")->size(), 2u);
  EXPECT_EQ(store_->InboundPeeks("!r:a.test", "", "a")->size(), 2u);
  auto one = store_->InboundPeeks("!r:a.test", "c.test", "a");
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].latest_event_id, "$e2");
  EXPECT_EQ((*one)[0].renewed_ts, 1000);
  EXPECT_TRUE(store_->InboundPeeks("!other:a.test", "", "")->empty());
}

// Our peeks into other servers' rooms: renewed while a local device looks, ended when none does.
class OutboundPeeksTest : public FederationQueueTest {
 protected:
  void SetUp() override {
    FederationQueueTest::SetUp();
    peeks_ = std::make_unique<OutboundPeeks>(
        *store_, remote_, clock_,
        [this](const std::string& room, const std::vector<std::pair<std::string, std::string>>& p) {
          for (const auto& [user, device] : p) retired_.push_back(room + " " + user + "/" + device);
          return absl::OkStatus();
        });
  }
  // A local device's new_peek (peeking) or retire_peek at `seq` of the room's stream.
  void LocalPeek(int64_t seq, const std::string& device, bool peeking) {
    roomserver::v1::OutputEvent output;
    output.set_room_id("!r:a.test");
    output.set_room_sequence(seq);
    if (peeking) {
      output.mutable_new_peek()->set_user_id("@bob:a.test");
      output.mutable_new_peek()->set_device_id(device);
    } else {
      output.mutable_retire_peek()->set_user_id("@bob:a.test");
      output.mutable_retire_peek()->set_device_id(device);
    }
    Handle(output);
  }
  std::vector<std::string> Targets(const std::string& method) {
    std::vector<std::string> out;
    for (const auto& call : remote_.calls()) {
      if (call.method == method) out.push_back(call.target);
    }
    return out;
  }
  std::unique_ptr<OutboundPeeks> peeks_;
  std::vector<std::string> retired_;
};

TEST_F(OutboundPeeksTest, APeekIsRenewedAtHalfItsIntervalWhileADeviceLooks) {
  remote_.On("far.test", "/_matrix/federation/v1/peek/",
             FakeFederation::Answer(200, {{"renewal_interval", 20000}}));
  LocalPeek(1, "PHONE", true);
  ASSERT_TRUE(peeks_->Record("!r:a.test", "far.test", "pk1", 10000).ok());
  clock_.Advance(absl::Milliseconds(4999));
  peeks_->Sweep();
  EXPECT_TRUE(remote_.calls().empty()) << "not before half the interval";
  clock_.Advance(absl::Milliseconds(1));
  peeks_->Sweep();
  EXPECT_EQ(Targets("POST"),
            (std::vector<std::string>{"/_matrix/federation/v1/peek/%21r%3Aa.test/pk1/renew"}));
  auto renewed = *store_->OutboundPeeks("!r:a.test");
  ASSERT_EQ(renewed.size(), 1u);
  EXPECT_EQ(renewed[0].renewal_interval_ms, 20000) << "the server's new interval";
  clock_.Advance(absl::Seconds(9));
  peeks_->Sweep();
  EXPECT_EQ(Targets("POST").size(), 1u) << "half of the new interval is 10 s";
  EXPECT_TRUE(Targets("DELETE").empty());
}

TEST_F(OutboundPeeksTest, WhenTheLastDeviceGoesThePeekIsDeleted) {
  remote_.On("far.test", "/_matrix/federation/v1/peek/",
             FakeFederation::Answer(200, Json::object()));
  ASSERT_TRUE(peeks_->Record("!r:a.test", "far.test", "pk1", 60000).ok());
  LocalPeek(1, "PHONE", true);  // the device whose peek began it
  LocalPeek(2, "LAPTOP", true);
  LocalPeek(3, "PHONE", false);
  peeks_->Sweep();
  EXPECT_TRUE(Targets("DELETE").empty()) << "the laptop still looks";
  LocalPeek(4, "LAPTOP", false);
  LocalPeek(2, "LAPTOP", true);  // a redelivery behind the retire: changes nothing
  peeks_->Sweep();
  EXPECT_EQ(Targets("DELETE"),
            (std::vector<std::string>{"/_matrix/federation/v1/peek/%21r%3Aa.test/pk1"}));
  EXPECT_TRUE(store_->OutboundPeeks("")->empty());
  EXPECT_TRUE(retired_.empty()) << "our own DELETE retires nobody";
}

TEST_F(OutboundPeeksTest, AFreshPeekWaitsForItsDeviceAndAnUndeliverableDeleteIsRetried) {
  ASSERT_TRUE(peeks_->Record("!r:a.test", "far.test", "pk1", 600000).ok());
  peeks_->Sweep();
  EXPECT_TRUE(remote_.calls().empty()) << "the device's new_peek is still on its way";
  clock_.Advance(OutboundPeeks::kGrace);
  remote_.On("far.test", "/_matrix/federation/v1/peek/",
             [](const FakeFederation::Request&) -> absl::StatusOr<federation::FederationResponse> {
               return absl::UnavailableError("down");
             });
  peeks_->Sweep();
  EXPECT_EQ(store_->OutboundPeeks("")->size(), 1u) << "kept: the DELETE did not get through";
  clock_.Advance(absl::Minutes(10));
  peeks_->Sweep();
  EXPECT_TRUE(store_->OutboundPeeks("")->empty()) << "it would have lapsed there anyway";
}

// A server that does not answer is not asked at every poll: its peeks wait out a backoff that
// doubles per failure, and an answer clears it.
TEST_F(OutboundPeeksTest, AServerThatDoesNotAnswerIsAskedAgainOnlyAfterItsBackoff) {
  bool up = false;
  remote_.On(
      "far.test", "/_matrix/federation/v1/peek/",
      [&up](const FakeFederation::Request&) -> absl::StatusOr<federation::FederationResponse> {
        if (!up) return absl::UnavailableError("down");
        return federation::FederationResponse{200, Json{{"renewal_interval", 600000}}};
      });
  LocalPeek(1, "PHONE", true);
  ASSERT_TRUE(peeks_->Record("!r:a.test", "far.test", "pk1", 600000).ok());
  ASSERT_TRUE(peeks_->Record("!r:a.test", "far.test", "pk2", 600000).ok());
  clock_.Advance(absl::Minutes(5));
  peeks_->Sweep();
  EXPECT_EQ(Targets("POST").size(), 1u) << "the second peek of the server waits with it";
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Milliseconds(500));
    peeks_->Sweep();
  }
  EXPECT_EQ(Targets("POST").size(), 1u) << "not asked again within 2 s";
  clock_.Advance(absl::Milliseconds(500));
  peeks_->Sweep();
  EXPECT_EQ(Targets("POST").size(), 2u) << "asked after 2 s";
  clock_.Advance(absl::Seconds(3));
  peeks_->Sweep();
  EXPECT_EQ(Targets("POST").size(), 2u) << "the second failure doubles the wait to 4 s";
  up = true;
  clock_.Advance(absl::Seconds(1));
  peeks_->Sweep();
  EXPECT_EQ(Targets("POST").size(), 4u) << "both renewed once it answers";
  clock_.Advance(absl::Minutes(1));
  peeks_->Sweep();
  EXPECT_EQ(Targets("POST").size(), 4u) << "renewed: next due at half the new interval";
}

// A peer of Dendrite's revision has no renew endpoint (404 M_UNRECOGNIZED): the same PUT again
// renews the peek there, rather than the 404 ending it here.
TEST_F(OutboundPeeksTest, APeerWithoutRenewIsRenewedByPuttingThePeekAgain) {
  bool refused = false;
  remote_.On("old.test", "/_matrix/federation/v1/peek/",
             [&refused](const FakeFederation::Request& r)
                 -> absl::StatusOr<federation::FederationResponse> {
               if (r.method == "PUT" && refused) {
                 return federation::FederationResponse{403, Json{{"errcode", "M_FORBIDDEN"}}};
               }
               if (r.method == "PUT") {
                 return federation::FederationResponse{200, Json{{"renewal_interval", 30000}}};
               }
               return federation::FederationResponse{
                   404, Json{{"errcode", "M_UNRECOGNIZED"}, {"error", "Unrecognized request"}}};
             });
  LocalPeek(1, "PHONE", true);
  ASSERT_TRUE(peeks_->Record("!r:a.test", "old.test", "pk1", 10000).ok());
  clock_.Advance(absl::Seconds(5));
  peeks_->Sweep();
  ASSERT_EQ(Targets("PUT").size(), 1u);
  EXPECT_EQ(Targets("PUT")[0].rfind("/_matrix/federation/v1/peek/%21r%3Aa.test/pk1?ver=4&", 0), 0u)
      << Targets("PUT")[0];
  auto peeks = *store_->OutboundPeeks("!r:a.test");
  ASSERT_EQ(peeks.size(), 1u) << "still peeking";
  EXPECT_EQ(peeks[0].renewal_interval_ms, 30000);
  EXPECT_TRUE(retired_.empty());

  // The room stops being world_readable there: the PUT is refused, and the peek is over here.
  refused = true;
  clock_.Advance(absl::Seconds(15));
  peeks_->Sweep();
  EXPECT_TRUE(store_->OutboundPeeks("")->empty());
  EXPECT_EQ(retired_, (std::vector<std::string>{"!r:a.test @bob:a.test/PHONE"}));
}

TEST_F(OutboundPeeksTest, APeekTheServerEndedIsForgottenAndItsDevicesAreTold) {
  remote_.On("far.test", "/_matrix/federation/v1/peek/",
             FakeFederation::Answer(404, {{"errcode", "M_NOT_FOUND"}}));
  LocalPeek(1, "PHONE", true);
  ASSERT_TRUE(peeks_->Record("!r:a.test", "far.test", "pk1", 10000).ok());
  ASSERT_TRUE(peeks_->Record("!r:a.test", "near.test", "pk2", 10000).ok());
  EXPECT_TRUE(absl::IsNotFound(peeks_->EndedByServer("!r:a.test", "near.test", "other")));
  EXPECT_TRUE(absl::IsNotFound(peeks_->EndedByServer("!r:a.test", "evil.test", "pk2")))
      << "a server ends only its own peeks";
  ASSERT_TRUE(peeks_->EndedByServer("!r:a.test", "near.test", "pk2").ok());
  EXPECT_TRUE(retired_.empty()) << "the peek through far.test still carries the room";
  clock_.Advance(absl::Seconds(5));
  peeks_->Sweep();  // far.test answers the renewal 404: it is gone too
  EXPECT_TRUE(store_->OutboundPeeks("")->empty());
  EXPECT_EQ(retired_, (std::vector<std::string>{"!r:a.test @bob:a.test/PHONE"}));
}
}  // namespace
}  // namespace periscope::federationsender
