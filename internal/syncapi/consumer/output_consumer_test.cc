// The output consumer against an in-memory store with injected faults: what must not happen is a
// peek re-opened by a stale message, a write dropped after a transient error, or a committed write
// whose waiters are never woken.

#include "internal/syncapi/consumer/output_consumer.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "internal/roomserver/api/output_stream.h"
#include "internal/syncapi/storage/caching_sync_store.h"
#include "internal/syncapi/testing/fake_sync_store.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/clock/clock.h"

namespace periscope::syncapi {
namespace {

using Fault = testing::FakeSyncStore::Fault;
namespace rs = roomserver::v1;

constexpr char kRoom[] = "!room:test";
constexpr char kAlice[] = "@alice:test";
constexpr char kBob[] = "@bob:test";

class OutputConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = *CachingSyncStore::Create(fake_);
    applied_ = std::make_unique<AppliedSequences>(*cache_);
    consumer_ = std::make_unique<OutputConsumer>(*cache_, notifier_, metrics_, *applied_,
                                                 absl::Milliseconds(1));
  }

  stream::Outcome Deliver(const rs::OutputEvent& output) {
    std::string payload = roomserver::EncodeOutputPayload(output);
    stream::Message m;
    m.subject = "out.room";
    m.data = payload;
    return consumer_->Handle(m);
  }

  rs::OutputEvent Event(int64_t seq, const std::string& id, const std::string& type,
                        const std::string& sender, const std::string& content,
                        const std::string& state_key = "", const std::string& redacts = "") {
    std::string json =
        R"({"auth_events":[],"content":)" + content +
        R"(,"depth":1,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],)" +
        (redacts.empty() ? "" : R"("redacts":")" + redacts + R"(",)") + R"("room_id":")" + kRoom +
        R"(","sender":")" + sender + R"(",)" +
        (type == "m.room.member" ? R"("state_key":")" + state_key + R"(",)" : "") + R"("type":")" +
        type + R"("})";
    rs::OutputEvent output;
    output.set_room_id(kRoom);
    output.set_room_sequence(seq);
    rs::NewRoomEvent* e = output.mutable_new_room_event();
    e->set_event_json(json);
    e->set_event_id(id);
    e->set_room_version("10");
    if (!state_key.empty()) e->add_adds_state_event_ids(id);
    e->set_redacted_event_id(redacts);  // as the roomserver does once it checked the sender
    return output;
  }

  rs::OutputEvent Peek(int64_t seq, bool start) {
    rs::OutputEvent output;
    output.set_room_id(kRoom);
    output.set_room_sequence(seq);
    if (start) {
      output.mutable_new_peek()->set_user_id(kBob);
      output.mutable_new_peek()->set_device_id("DEV");
      output.mutable_new_peek()->set_peek_expiry_ts(1'000'000'000'000'000);
    } else {
      output.mutable_retire_peek()->set_user_id(kBob);
      output.mutable_retire_peek()->set_device_id("DEV");
      output.mutable_retire_peek()->set_reason(rs::UNPEEK_REASON_CLIENT);
    }
    return output;
  }

  SimulatedClock clock_;
  testing::FakeSyncStore fake_;
  std::unique_ptr<CachingSyncStore> cache_;
  Notifier notifier_{clock_};
  PeekMetrics metrics_{nullptr};
  std::unique_ptr<AppliedSequences> applied_;
  std::unique_ptr<OutputConsumer> consumer_;
};

TEST_F(OutputConsumerTest, ARedeliveredNewPeekBehindItsRetirementDoesNotReopenThePeek) {
  EXPECT_EQ(Deliver(Peek(1, true)).kind, stream::Outcome::Kind::kAck);
  EXPECT_EQ(Deliver(Peek(2, false)).kind, stream::Outcome::Kind::kAck);
  // new_peek's ack was lost: JetStream redelivers it after the retire_peek was applied.
  EXPECT_EQ(Deliver(Peek(1, true)).kind, stream::Outcome::Kind::kAck);
  auto peekers = cache_->PeekingUsers(kRoom);
  ASSERT_TRUE(peekers.ok());
  EXPECT_TRUE(peekers->empty());
  auto peeks = cache_->PeeksOf(kBob, "DEV");
  ASSERT_TRUE(peeks.ok());
  ASSERT_EQ(peeks->size(), 1u);
  EXPECT_TRUE((*peeks)[0].ended_pos.has_value());
}

// The roomserver merged two branches: the message that merged them brings an older event back
// into the state and takes a newer one out. Current state, state at each position, the history
// of the key and the cached memberships must all follow, although the message is not itself a
// state event.
TEST_F(OutputConsumerTest, AMergeChangesStateThroughEventsOtherThanItsOwn) {
  Deliver(Event(1, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob));
  rs::OutputEvent leave =
      Event(2, "$leave", "m.room.member", kBob, R"({"membership":"leave"})", kBob);
  leave.mutable_new_room_event()->add_removes_state_event_ids("$join");
  Deliver(leave);
  ASSERT_EQ(cache_->MembershipsOf(kBob)->at(0).membership, "leave");  // now cached
  const int64_t left_at = *cache_->MaxPosition();

  rs::OutputEvent merge = Event(3, "$merge", "m.room.message", kAlice, R"({"body":"m"})");
  merge.mutable_new_room_event()->add_adds_state_event_ids("$join");
  merge.mutable_new_room_event()->add_removes_state_event_ids("$leave");
  EXPECT_EQ(Deliver(merge).kind, stream::Outcome::Kind::kAck);
  const int64_t merged_at = *cache_->MaxPosition();

  EXPECT_EQ(cache_->MembershipIn(kRoom, kBob)->membership, "join");
  EXPECT_EQ(cache_->MembershipsOf(kBob)->at(0).membership, "join") << "a stale cached membership";
  EXPECT_EQ(*cache_->JoinedUsers(kRoom), std::vector<std::string>{kBob});
  auto ids = [](const absl::StatusOr<std::vector<SyncEvent>>& events) {
    std::vector<std::string> out;
    for (const SyncEvent& e : *events) out.push_back(e.event_id);
    return out;
  };
  EXPECT_EQ(ids(cache_->CurrentState(kRoom)), std::vector<std::string>{"$join"});
  EXPECT_EQ(ids(cache_->StateAt(kRoom, left_at)), std::vector<std::string>{"$leave"});
  EXPECT_EQ(ids(cache_->StateAt(kRoom, merged_at)), std::vector<std::string>{"$join"});
  absl::StatusOr<std::vector<SyncEvent>> history =
      cache_->StateHistory(kRoom, "m.room.member", kBob);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[2].event_id, "$join");
  EXPECT_EQ((*history)[2].pos, merged_at) << "the change counts from the merge, not the join";

  // A merge can also take a key out altogether.
  rs::OutputEvent drop = Event(4, "$drop", "m.room.message", kAlice, R"({"body":"d"})");
  drop.mutable_new_room_event()->add_removes_state_event_ids("$join");
  Deliver(drop);
  EXPECT_EQ(cache_->MembershipIn(kRoom, kBob)->membership, "");
  EXPECT_TRUE(cache_->CurrentState(kRoom)->empty());
  EXPECT_TRUE(cache_->JoinedUsers(kRoom)->empty());
  history = cache_->StateHistory(kRoom, "m.room.member", kBob);
  ASSERT_EQ(history->size(), 4u);
  EXPECT_TRUE((*history)[3].event_id.empty());
}

// The roomserver may merge back a state event syncapi never received (a soft-failed one, or a
// federated join's outlier). Its key is unknown here, so a removal in the same message may be
// that key's: syncapi keeps the old entry rather than take a joined member out of the room.
TEST_F(OutputConsumerTest, AnUnknownEnteringEventNeverCostsAMemberTheirJoin) {
  Deliver(Event(1, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob));
  rs::OutputEvent merge = Event(2, "$merge", "m.room.message", kAlice, R"({"body":"m"})");
  merge.mutable_new_room_event()->add_adds_state_event_ids("$never-sent");
  merge.mutable_new_room_event()->add_removes_state_event_ids("$join");
  EXPECT_EQ(Deliver(merge).kind, stream::Outcome::Kind::kAck);
  EXPECT_EQ(cache_->MembershipIn(kRoom, kBob)->membership, "join");
  EXPECT_EQ(*cache_->JoinedUsers(kRoom), std::vector<std::string>{kBob});
}

// A lookup of the roomserver's events that counts its calls and can fail for a while.
class FakeLookup : public roomserver::EventLookup {
 public:
  absl::StatusOr<std::vector<roomserver::LookedUpEvent>> EventsById(
      const std::vector<std::string>& ids) override {
    ++calls;
    if (failures > 0) {
      --failures;
      return absl::UnavailableError("roomserver down");
    }
    std::vector<roomserver::LookedUpEvent> out;
    for (const std::string& id : ids) {
      if (auto it = events.find(id); it != events.end()) out.push_back({id, kRoom, it->second});
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> StateAfter(const std::string&, const std::string&,
                                                      int64_t state_group) override {
    asked_group = state_group;
    if (!state_error.ok()) return state_error;
    return state_after;
  }
  std::map<std::string, std::string> events;
  std::vector<std::string> state_after;
  absl::Status state_error;
  int64_t asked_group = -1;
  int calls = 0;
  int failures = 0;
};

// A join over federation names the room's state, which the stream never carried: syncapi fetches
// it from the roomserver and keeps it as state, but none of it may appear in a timeline.
TEST_F(OutputConsumerTest, AFederatedJoinsStateIsFetchedAndKeptOutOfTimelines) {
  FakeLookup lookup;
  lookup.events["$create"] =
      R"({"type":"m.room.create","state_key":"","sender":"@carol:remote","content":{"room_version":"10"}})";
  lookup.events["$carol"] =
      R"({"type":"m.room.member","state_key":"@carol:remote","sender":"@carol:remote","content":{"membership":"join"}})";
  lookup.events["$name"] =
      R"({"type":"m.room.name","state_key":"","sender":"@carol:remote","content":{"name":"Hall"}})";
  lookup.failures = 2;  // retried in place, not dropped
  consumer_->set_state_events(&lookup);
  rs::OutputEvent join = Event(1, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob);
  for (const char* id : {"$create", "$carol", "$name", "$gone"}) {
    join.mutable_new_room_event()->add_adds_state_event_ids(id);
  }
  EXPECT_EQ(Deliver(join).kind, stream::Outcome::Kind::kAck);
  EXPECT_EQ(lookup.calls, 3);
  std::set<std::string> state;
  absl::StatusOr<std::vector<SyncEvent>> current = cache_->CurrentState(kRoom);
  ASSERT_TRUE(current.ok());
  for (const SyncEvent& e : *current) state.insert(e.event_id);
  EXPECT_EQ(state, (std::set<std::string>{"$create", "$carol", "$name", "$join"}));
  std::vector<std::string> joined = *cache_->JoinedUsers(kRoom);
  std::sort(joined.begin(), joined.end());
  EXPECT_EQ(joined, (std::vector<std::string>{kBob, "@carol:remote"}));
  bool limited = false;
  std::vector<SyncEvent> timeline =
      *cache_->RecentEvents(kRoom, 0, *cache_->MaxPosition(), 10, &limited);
  ASSERT_EQ(timeline.size(), 1u);
  EXPECT_EQ(timeline[0].event_id, "$join");
  std::vector<SyncEvent> page = *cache_->EventsPage(kRoom, *cache_->MaxPosition(), 0, true, 10);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].event_id, "$join");
}

// A state given wholesale (state_reset) is read from the roomserver: what is in it enters, and a
// key syncapi had that is not in it leaves.
TEST_F(OutputConsumerTest, AStateResetTakesTheRoomserversStateAfterTheEvent) {
  FakeLookup lookup;
  consumer_->set_state_events(&lookup);
  Deliver(Event(1, "$old", "m.room.member", kAlice, R"({"membership":"join"})", kAlice));
  lookup.events["$carol"] =
      R"({"type":"m.room.member","state_key":"@carol:remote","sender":"@carol:remote","content":{"membership":"join"}})";
  lookup.state_after = {"$carol", "$join"};
  rs::OutputEvent join = Event(2, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob);
  join.mutable_new_room_event()->clear_adds_state_event_ids();
  join.mutable_new_room_event()->set_state_reset(true);
  EXPECT_EQ(Deliver(join).kind, stream::Outcome::Kind::kAck);
  std::vector<std::string> joined = *cache_->JoinedUsers(kRoom);
  std::sort(joined.begin(), joined.end());
  EXPECT_EQ(joined, (std::vector<std::string>{kBob, "@carol:remote"}));  // alice's key left
}

// The current state the message names (the room may have other forward extremities, so it is not
// the state after the event) is what is read; one that cannot be read takes nothing out.
TEST_F(OutputConsumerTest, AStateResetReadsTheNamedGroupAndAnUnreadableOneRemovesNothing) {
  FakeLookup lookup;
  consumer_->set_state_events(&lookup);
  Deliver(Event(1, "$old", "m.room.member", kAlice, R"({"membership":"join"})", kAlice));
  lookup.state_error = absl::InvalidArgumentError("no such state group");
  rs::OutputEvent join = Event(2, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob);
  join.mutable_new_room_event()->clear_adds_state_event_ids();
  join.mutable_new_room_event()->set_state_reset(true);
  join.mutable_new_room_event()->set_current_state_group(7);
  EXPECT_EQ(Deliver(join).kind, stream::Outcome::Kind::kAck);
  EXPECT_EQ(lookup.asked_group, 7);
  std::vector<std::string> joined = *cache_->JoinedUsers(kRoom);
  std::sort(joined.begin(), joined.end());
  EXPECT_EQ(joined, (std::vector<std::string>{kAlice, kBob}));  // alice stays
}

// A join over federation after a peek names the whole state, which the room already had but for
// the joiner's key: that must not read as a merge (the timeline would restart, limited, and the
// whole state go to every client again), nor move the unchanged entries to the join's position.
TEST_F(OutputConsumerTest, AStateResetKeepsWhatItDoesNotChange) {
  FakeLookup lookup;
  consumer_->set_state_events(&lookup);
  Deliver(Event(1, "$old", "m.room.member", kAlice, R"({"membership":"join"})", kAlice));
  Deliver(Event(2, "$carol", "m.room.member", "@carol:remote", R"({"membership":"join"})",
                "@carol:remote"));
  int64_t before_join = *cache_->MaxPosition();
  lookup.state_after = {"$old", "$carol", "$join"};
  rs::OutputEvent join = Event(3, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob);
  join.mutable_new_room_event()->clear_adds_state_event_ids();
  join.mutable_new_room_event()->set_state_reset(true);
  EXPECT_EQ(Deliver(join).kind, stream::Outcome::Kind::kAck);
  bool limited = false;
  std::vector<SyncEvent> timeline =
      *cache_->RecentEvents(kRoom, before_join, *cache_->MaxPosition(), 10, &limited);
  ASSERT_EQ(timeline.size(), 1u);
  EXPECT_EQ(timeline[0].event_id, "$join");
  EXPECT_FALSE(timeline[0].merges_state);
  std::vector<SyncEvent> state = *cache_->CurrentState(kRoom);
  for (const SyncEvent& e : state) {
    if (e.event_id != "$join") {
      EXPECT_LE(e.pos, before_join) << e.event_id;
    }
  }
  std::vector<std::string> joined = *cache_->JoinedUsers(kRoom);
  std::sort(joined.begin(), joined.end());
  EXPECT_EQ(joined, (std::vector<std::string>{kAlice, kBob, "@carol:remote"}));
}

TEST_F(OutputConsumerTest, ARedeliveredEventBehindNewerOnesChangesNothing) {
  Deliver(Event(1, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob));
  Deliver(Event(2, "$leave", "m.room.member", kBob, R"({"membership":"leave"})", kBob));
  const int64_t before = *cache_->MaxPosition();
  Deliver(Event(1, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob));
  EXPECT_EQ(*cache_->MaxPosition(), before);
  EXPECT_EQ(cache_->MembershipIn(kRoom, kBob)->membership, "leave");
}

TEST_F(OutputConsumerTest, ATransientWriteErrorIsRetriedInPlaceNotNakedOrDropped) {
  fake_.InjectFaults(3, Fault::kFailBeforeCommit);
  EXPECT_EQ(Deliver(Event(1, "$m", "m.room.message", kAlice, R"({"body":"hi"})")).kind,
            stream::Outcome::Kind::kAck);
  EXPECT_EQ(fake_.writes(), 4);
  EXPECT_TRUE(cache_->EventInRoom(kRoom, "$m")->has_value());
  EXPECT_EQ(*cache_->MaxPosition(), 1);

  fake_.InjectFaults(2, Fault::kFailBeforeCommit);
  EXPECT_EQ(Deliver(Peek(2, true)).kind, stream::Outcome::Kind::kAck);
  EXPECT_EQ(cache_->PeekingUsers(kRoom)->size(), 1u);
}

TEST_F(OutputConsumerTest, ACommitWhoseAnswerWasLostStillAdvancesThePositionAndWakesWaiters) {
  Deliver(Event(1, "$join", "m.room.member", kBob, R"({"membership":"join"})", kBob));
  const int64_t seen = *cache_->MaxPosition();
  std::atomic<int> woken{0};
  notifier_.Wait(kBob, seen, clock_.Now() + absl::Hours(1), [&](Notifier::Reason r) {
    if (r == Notifier::Reason::kWoken) ++woken;
  });
  // The write commits but its answer is lost; the retry finds the message applied.
  fake_.InjectFaults(1, Fault::kFailAfterCommit);
  EXPECT_EQ(Deliver(Event(2, "$m", "m.room.message", kAlice, R"({"body":"hi"})")).kind,
            stream::Outcome::Kind::kAck);
  EXPECT_GT(*cache_->MaxPosition(), seen);  // a sync can see it
  for (int i = 0; i < 200 && woken.load() == 0; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(woken.load(), 1);  // and the waiting sync was told
}

TEST_F(OutputConsumerTest, ARedactionIsAppliedDespiteATransientErrorAndOnRedelivery) {
  Deliver(Event(1, "$m", "m.room.message", kAlice, R"({"body":"secret"})"));
  // Storing the redaction works; redacting its target fails once.
  fake_.InjectFaults(1, Fault::kFailBeforeCommit, /*skip=*/1);
  EXPECT_EQ(Deliver(Event(2, "$r", "m.room.redaction", kAlice, "{}", "", "$m")).kind,
            stream::Outcome::Kind::kAck);
  auto target = cache_->EventInRoom(kRoom, "$m");
  ASSERT_TRUE(target.ok() && target->has_value());
  EXPECT_EQ((*target)->event_json.find("secret"), std::string::npos) << (*target)->event_json;

  // A crash between storing a redaction and redacting its target: the redelivered message (stale
  // by its sequence) still redacts the target.
  Deliver(Event(3, "$m2", "m.room.message", kAlice, R"({"body":"secret2"})"));
  rs::OutputEvent redaction = Event(4, "$r2", "m.room.redaction", kAlice, "{}", "", "$m2");
  SyncEvent stored;
  stored.event_id = "$r2";
  stored.room_id = kRoom;
  stored.type = "m.room.redaction";
  stored.sender = kAlice;
  stored.event_json = redaction.new_room_event().event_json();
  ASSERT_TRUE(cache_->ApplyEvent(stored, {}, 4).ok());
  EXPECT_EQ(Deliver(redaction).kind, stream::Outcome::Kind::kAck);
  auto target2 = cache_->EventInRoom(kRoom, "$m2");
  ASSERT_TRUE(target2.ok() && target2->has_value());
  EXPECT_EQ((*target2)->event_json.find("secret2"), std::string::npos);
}

// Readers wait for the room's applied sequence (read your writes), which the redaction's own
// write advances: its target must be redacted before that, or a read in between shows it whole.
TEST_F(OutputConsumerTest, ARedactionsTargetIsRedactedBeforeTheRoomsSequenceSaysItIsIn) {
  Deliver(Event(1, "$m", "m.room.message", kAlice, R"({"body":"secret"})"));
  bool checked = false;
  fake_.before_apply = [&](const SyncEvent& e) {
    if (e.type != "m.room.redaction") return;
    checked = true;
    std::optional<SyncEvent> target = *fake_.EventInRoom(kRoom, "$m");
    ASSERT_TRUE(target.has_value());
    EXPECT_EQ(target->event_json.find("secret"), std::string::npos) << target->event_json;
  };
  EXPECT_EQ(Deliver(Event(2, "$r", "m.room.redaction", kAlice, "{}", "", "$m")).kind,
            stream::Outcome::Kind::kAck);
  EXPECT_TRUE(checked);
  fake_.before_apply = nullptr;
}

TEST_F(OutputConsumerTest, ARedactionRedactsOnlyTheTargetTheRoomserverApproved) {
  Deliver(Event(1, "$victim", "m.room.message", kAlice, R"({"body":"mine"})"));
  // A redaction naming a target in its content or top level, but not approved by the roomserver
  // (as one sent through /send by someone without the power would be), redacts nothing.
  rs::OutputEvent sneaky =
      Event(2, "$r", "m.room.redaction", kBob, R"({"redacts":"$victim"})", "", "$victim");
  sneaky.mutable_new_room_event()->clear_redacted_event_id();
  EXPECT_EQ(Deliver(sneaky).kind, stream::Outcome::Kind::kAck);
  auto victim = cache_->EventInRoom(kRoom, "$victim");
  ASSERT_TRUE(victim.ok() && victim->has_value());
  EXPECT_NE((*victim)->event_json.find("mine"), std::string::npos);
}

TEST_F(OutputConsumerTest, EveryMessageAdvancesTheRoomsAppliedSequenceEvenOnesNotStoredHere) {
  Deliver(Event(1, "$m", "m.room.message", kAlice, R"({"body":"hi"})"));
  EXPECT_TRUE(applied_->WaitFor(kRoom, 1, absl::ZeroDuration()));
  // An inbound federated peek is not syncapi's to store; reads must not wait for it forever.
  rs::OutputEvent inbound;
  inbound.set_room_id(kRoom);
  inbound.set_room_sequence(2);
  inbound.mutable_new_inbound_peek()->set_server_name("other.test");
  EXPECT_EQ(Deliver(inbound).kind, stream::Outcome::Kind::kAck);
  EXPECT_TRUE(applied_->WaitFor(kRoom, 2, absl::ZeroDuration()));
  // So does a message that cannot be used (parked), and it is remembered across a restart.
  rs::OutputEvent broken = Event(3, "$bad", "m.room.message", kAlice, "{}");
  broken.mutable_new_room_event()->set_event_json("not json");
  EXPECT_EQ(Deliver(broken).kind, stream::Outcome::Kind::kTerm);
  AppliedSequences after_restart(*cache_);
  EXPECT_TRUE(after_restart.WaitFor(kRoom, 3, absl::ZeroDuration()));
}

}  // namespace
}  // namespace periscope::syncapi
