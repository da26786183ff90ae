// syncapi with a real roomserver, PostgreSQL, nats-server and gRPC: what the roomserver accepts
// reaches /sync through the output stream; initial and incremental syncs; a long-poll is woken by
// a message and times out when nothing comes; redeliveries change nothing; bad tokens and filters
// are INVALID_ARGUMENT; account data is stored, read back, delivered by /sync and wakes a
// long-poll.

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "internal/roomserver/api/output_stream.h"
#include "internal/roomserver/roomserver_component.h"
#include "internal/roomserver/testing/remote_server.h"
#include "internal/syncapi/syncapi_component.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "periscope/syncapi/v1/syncapi_service.grpc.pb.h"
#include "pkg/crypto/random.h"
#include "pkg/grpc/grpc_server.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"
#include "tests/testing/test_services.h"

namespace periscope::syncapi {
namespace {

constexpr char kAlice[] = "@alice:sy.test";
constexpr char kBob[] = "@bob:sy.test";
namespace rs = roomserver::v1;

class SyncApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitSodium();
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto nats = testing::NatsServerProcess::Start();
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
    config_.server_name = "sy.test";
    config_.peeking.local_peek_lifetime = absl::Seconds(2);
    config_.nats.stream_prefix = "SY" + crypto::RandomString(6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    key_ = *matrix::GenerateSigningKey("t1");
    auto pool = pg::Pool::Create({.dsn = db_->dsn(), .max_connections = 6});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    auto js = stream::JetStream::Connect({.url = nats_->url()});
    ASSERT_TRUE(js.ok());
    js_ = *std::move(js);
    auto rooms = roomserver::RoomserverComponent::Create(config_, *pool_, *js_, key_);
    ASSERT_TRUE(rooms.ok()) << rooms.status();
    rooms_ = *std::move(rooms);
    // The roomserver is served first: syncapi retires lapsed peeks through it.
    auto rooms_server = grpcutil::GrpcServer::Start(
        {.listen_address = "127.0.0.1:0", .services = rooms_->services()});
    ASSERT_TRUE(rooms_server.ok()) << rooms_server.status();
    rooms_server_ = *std::move(rooms_server);
    auto sync =
        SyncApiComponent::Create(config_, *pool_, *js_, SystemClock::Get(),
                                 rooms_server_->InProcessChannel(), absl::Milliseconds(100));
    ASSERT_TRUE(sync.ok()) << sync.status();
    sync_ = *std::move(sync);
    auto server = grpcutil::GrpcServer::Start(
        {.listen_address = "127.0.0.1:0", .services = sync_->services()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    rs_ = rs::RoomserverService::NewStub(rooms_server_->InProcessChannel());
    sy_ = v1::SyncApiService::NewStub(server_->InProcessChannel());
  }

  void TearDown() override {
    if (sync_) sync_->ReleaseWaiters();
    if (server_) server_->Shutdown(absl::Seconds(1));
    sync_.reset();  // its peek expirer calls the roomserver
    if (rooms_server_) rooms_server_->Shutdown(absl::Seconds(1));
  }

  std::string CreateRoom(const std::string& room_version = "") {
    rs::PerformCreateRoomRequest request;
    request.set_user_id(kAlice);
    request.set_room_version(room_version);
    request.set_preset(rs::ROOM_PRESET_PUBLIC_CHAT);
    grpc::ClientContext ctx;
    rs::PerformCreateRoomResponse response;
    EXPECT_TRUE(rs_->PerformCreateRoom(&ctx, request, &response).ok());
    return response.room_id();
  }

  void Join(const std::string& user, const std::string& room) {
    rs::PerformMembershipRequest request;
    request.set_sender(user);
    request.set_room_id_or_alias(room);
    request.set_action(rs::MEMBERSHIP_ACTION_JOIN);
    grpc::ClientContext ctx;
    rs::PerformMembershipResponse response;
    ASSERT_TRUE(rs_->PerformMembership(&ctx, request, &response).ok());
  }

  std::string Say(const std::string& user, const std::string& room, const std::string& body,
                  const std::string& txn = "") {
    rs::PerformSendEventRequest request;
    request.set_user_id(user);
    request.set_device_id("PHONE");
    request.set_room_id(room);
    request.set_event_type("m.room.message");
    request.set_content_json(matrix::Json{{"msgtype", "m.text"}, {"body", body}}.dump());
    request.set_txn_id(txn);
    grpc::ClientContext ctx;
    rs::PerformSendEventResponse response;
    EXPECT_TRUE(rs_->PerformSendEvent(&ctx, request, &response).ok());
    return response.event_id();
  }

  grpc::Status Sync(const std::string& user, const std::string& since, int64_t timeout_ms,
                    v1::SyncResponse* response, const std::string& filter = "") {
    v1::SyncRequest request;
    request.set_user_id(user);
    request.set_device_id("PHONE");
    request.set_since(since);
    request.set_timeout_ms(timeout_ms);
    request.set_filter_json(filter);
    grpc::ClientContext ctx;
    return sy_->Sync(&ctx, request, response);
  }

  // Polls `user`'s initial sync until `room` is joined with at least `events` state and timeline
  // events (the output stream is applied asynchronously).
  v1::SyncResponse SyncUntilRoom(const std::string& user, const std::string& room, int events) {
    v1::SyncResponse response;
    for (int i = 0; i < 200; ++i) {
      response.Clear();
      EXPECT_TRUE(Sync(user, "", 0, &response).ok());
      if (response.join().contains(room)) {
        const v1::JoinedRoom& joined = response.join().at(room);
        if (joined.state_json_size() + joined.timeline().events_json_size() >= events) {
          return response;
        }
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    ADD_FAILURE() << "room never appeared in full";
    return response;
  }

  std::string CreateReadableRoom() {
    rs::PerformCreateRoomRequest request;
    request.set_user_id(kAlice);
    request.set_preset(rs::ROOM_PRESET_PUBLIC_CHAT);
    rs::StateEvent* readable = request.add_initial_state();
    readable->set_type("m.room.history_visibility");
    readable->set_content_json(R"({"history_visibility":"world_readable"})");
    grpc::ClientContext ctx;
    rs::PerformCreateRoomResponse response;
    EXPECT_TRUE(rs_->PerformCreateRoom(&ctx, request, &response).ok());
    return response.room_id();
  }

  void Peek(const std::string& user, const std::string& device, const std::string& room) {
    rs::PerformPeekRequest request;
    request.set_user_id(user);
    request.set_device_id(device);
    request.set_room_id_or_alias(room);
    grpc::ClientContext ctx;
    rs::PerformPeekResponse response;
    grpc::Status status = rs_->PerformPeek(&ctx, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  void Unpeek(const std::string& user, const std::string& device, const std::string& room) {
    rs::PerformUnpeekRequest request;
    request.set_user_id(user);
    request.set_device_id(device);
    request.set_room_id(room);
    grpc::ClientContext ctx;
    rs::PerformUnpeekResponse response;
    ASSERT_TRUE(rs_->PerformUnpeek(&ctx, request, &response).ok());
  }

  grpc::Status DeviceSync(const std::string& user, const std::string& device,
                          const std::string& since, int64_t timeout_ms,
                          v1::SyncResponse* response) {
    v1::SyncRequest request;
    request.set_user_id(user);
    request.set_device_id(device);
    request.set_since(since);
    request.set_timeout_ms(timeout_ms);
    grpc::ClientContext ctx;
    return sy_->Sync(&ctx, request, response);
  }

  // Syncs the device from `since` until `done` holds for a response (each wait up to 10 s).
  template <typename Pred>
  v1::SyncResponse SyncUntil(const std::string& user, const std::string& device, std::string since,
                             Pred done) {
    v1::SyncResponse response;
    for (int i = 0; i < 50; ++i) {
      response.Clear();
      EXPECT_TRUE(DeviceSync(user, device, since, 10000, &response).ok());
      if (done(response)) return response;
      since = response.next_batch();
    }
    ADD_FAILURE() << "the awaited sync never came";
    return response;
  }

  static std::vector<std::string> Types(const google::protobuf::RepeatedPtrField<std::string>& e) {
    std::vector<std::string> out;
    for (const std::string& json : e) out.push_back(matrix::Json::parse(json)["type"]);
    return out;
  }

  grpc::Status PutAccountData(const std::string& room, const std::string& type,
                              const std::string& content) {
    v1::PutAccountDataRequest request;
    request.set_user_id(kAlice);
    request.set_room_id(room);
    request.set_type(type);
    request.set_content_json(content);
    grpc::ClientContext ctx;
    v1::PutAccountDataResponse response;
    return sy_->PutAccountData(&ctx, request, &response);
  }

  // The account data events of a sync section, as type -> content.
  static std::map<std::string, matrix::Json> AccountData(
      const google::protobuf::RepeatedPtrField<std::string>& events) {
    std::map<std::string, matrix::Json> out;
    for (const std::string& json : events) {
      matrix::Json event = matrix::Json::parse(json);
      out[event["type"]] = event["content"];
    }
    return out;
  }

  static std::vector<std::string> Bodies(const v1::JoinedRoom& room) {
    std::vector<std::string> out;
    for (const std::string& json : room.timeline().events_json()) {
      matrix::Json event = matrix::Json::parse(json);
      if (event["type"] == "m.room.message") out.push_back(event["content"]["body"]);
    }
    return out;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<testing::NatsServerProcess> nats_;
  config::Config config_;
  matrix::SigningKey key_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<stream::JetStream> js_;
  std::unique_ptr<roomserver::RoomserverComponent> rooms_;
  std::unique_ptr<SyncApiComponent> sync_;
  std::unique_ptr<grpcutil::GrpcServer> rooms_server_;
  std::unique_ptr<grpcutil::GrpcServer> server_;
  std::unique_ptr<rs::RoomserverService::Stub> rs_;
  std::unique_ptr<v1::SyncApiService::Stub> sy_;
};

TEST_F(SyncApiTest, InitialAndIncrementalSyncsCarryTheConversation) {
  const std::string room = CreateRoom();
  Say(kAlice, room, "first", "t1");
  // public_chat: 6 creation events, then the message.
  v1::SyncResponse initial = SyncUntilRoom(kAlice, room, 7);
  const v1::JoinedRoom& joined = initial.join().at(room);
  EXPECT_EQ(Bodies(joined), std::vector<std::string>{"first"});
  EXPECT_GT(joined.state_json_size() + joined.timeline().events_json_size(), 5);
  matrix::Json last =
      matrix::Json::parse(joined.timeline().events_json(joined.timeline().events_json_size() - 1));
  EXPECT_FALSE(last.contains("auth_events")) << "client format";
  EXPECT_EQ(last["unsigned"]["transaction_id"], "t1") << "the sending device sees its txn id";

  Join(kBob, room);
  v1::SyncResponse bob_initial = SyncUntilRoom(kBob, room, 8);
  EXPECT_EQ(bob_initial.join().at(room).summary().joined_member_count(), 2);
  matrix::Json bob_view =
      matrix::Json::parse(bob_initial.join().at(room).timeline().events_json(0));

  // A long-poll by alice is woken by bob's message.
  v1::SyncResponse woken;
  absl::Time start = absl::Now();
  std::thread speaker([&] {
    absl::SleepFor(absl::Milliseconds(300));
    Say(kBob, room, "hello alice");
  });
  ASSERT_TRUE(Sync(kAlice, initial.next_batch(), 10000, &woken).ok());
  speaker.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(8)) << "woken, not timed out";
  // Bob's join may come first in its own response; the message arrives by the next one at most.
  std::vector<std::string> seen;
  std::string token = woken.next_batch();
  if (woken.join().contains(room)) seen = Bodies(woken.join().at(room));
  if (seen.empty()) {
    v1::SyncResponse more;
    ASSERT_TRUE(Sync(kAlice, token, 10000, &more).ok());
    seen = Bodies(more.join().at(room));
  }
  EXPECT_EQ(seen, std::vector<std::string>{"hello alice"});
}

// A fork resolved in the roomserver reaches /sync: two remote users set the topic on two
// branches at once, then one branch takes the later topic's sender's power away. The current
// state goes back to the earlier topic although the later one is newer in the stream; an initial
// sync's state must say so.
TEST_F(SyncApiTest, AForkResolvedInTheRoomserverShowsInSync) {
  const std::string room = CreateRoom("10");  // the remote events below are built as version 10
  constexpr char kRemoteBob[] = "@bob:remote.test";
  constexpr char kRemoteCarol[] = "@carol:remote.test";
  rs::PerformSendEventRequest levels;
  levels.set_user_id(kAlice);
  levels.set_room_id(room);
  levels.set_event_type("m.room.power_levels");
  levels.set_state_key("");
  levels.set_content_json(
      matrix::Json{{"users", {{kAlice, 100}, {kRemoteBob, 50}, {kRemoteCarol, 100}}}}.dump());
  grpc::ClientContext ctx;
  rs::PerformSendEventResponse sent;
  ASSERT_TRUE(rs_->PerformSendEvent(&ctx, levels, &sent).ok());

  roomserver::testing::RemoteServer remote("remote.test", *rs_);
  auto bob_join = remote.Build(room, kRemoteBob, "m.room.member", kRemoteBob,
                               {{"membership", "join"}}, sent.event_id(), 100);
  ASSERT_TRUE(remote.AllAccepted(remote.Send({bob_join})));
  auto carol_join = remote.Build(room, kRemoteCarol, "m.room.member", kRemoteCarol,
                                 {{"membership", "join"}}, bob_join.id, 200);
  ASSERT_TRUE(remote.AllAccepted(remote.Send({carol_join})));
  // Alice's client is up to date before the fork.
  std::string since;
  for (int i = 0; i < 200; ++i) {
    v1::SyncResponse response;
    ASSERT_TRUE(Sync(kAlice, "", 0, &response).ok());
    since = response.next_batch();
    bool seen = false;
    // The room itself may not have reached syncapi yet: the roomserver answers at its commit.
    auto joined = response.join().find(room);
    for (int e = 0;
         joined != response.join().end() && e < joined->second.timeline().events_json_size(); ++e) {
      seen = seen ||
             matrix::ParseJson(joined->second.timeline().events_json(e))->value("event_id", "") ==
                 carol_join.id;
    }
    if (seen) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  auto topic_a =
      remote.Build(room, kRemoteCarol, "m.room.topic", "", {{"topic", "A"}}, carol_join.id, 1000);
  auto topic_b =
      remote.Build(room, kRemoteBob, "m.room.topic", "", {{"topic", "B"}}, carol_join.id, 2000);
  ASSERT_TRUE(remote.AllAccepted(remote.Send({topic_a, topic_b})));
  auto demote = remote.Build(room, kRemoteCarol, "m.room.power_levels", "",
                             {{"users", {{kAlice, 100}, {kRemoteBob, 0}, {kRemoteCarol, 100}}}},
                             topic_a.id, 3000);
  ASSERT_TRUE(remote.AllAccepted(remote.Send({demote})));

  // The last event in the timeline is the demotion; the state before it is the current state
  // without it: topic A, and both remote users joined.
  const std::string filter = R"({"room":{"timeline":{"limit":1}}})";
  std::string topic, last, bob;
  for (int i = 0; i < 200 && last != demote.id; ++i) {
    v1::SyncResponse response;
    ASSERT_TRUE(Sync(kAlice, "", 0, &response, filter).ok());
    const v1::JoinedRoom& joined = response.join().at(room);
    if (joined.timeline().events_json_size() > 0) {
      matrix::Json event = *matrix::ParseJson(joined.timeline().events_json(0));
      last = event.value("event_id", "");
    }
    for (const std::string& json : joined.state_json()) {
      matrix::Json event = *matrix::ParseJson(json);
      if (event["type"] == "m.room.topic") topic = event.value("event_id", "");
      if (event["type"] == "m.room.member" && event["state_key"] == kRemoteBob) {
        bob = event["content"].value("membership", "");
      }
    }
    if (last != demote.id) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(last, demote.id);
  EXPECT_EQ(topic, topic_a.id) << "B (" << topic_b.id << ") is newer but lost the resolution";
  EXPECT_EQ(bob, "join");

  // Alice's incremental sync: the timeline held A, then B, then the demotion that brought A back.
  // A client applies `state` first and the timeline after it, so the sync restarts the timeline
  // after the merge (limited) and says the topic is A in `state`.
  v1::SyncResponse incremental;
  ASSERT_TRUE(Sync(kAlice, since, 0, &incremental).ok());
  ASSERT_TRUE(incremental.join().contains(room));
  const v1::JoinedRoom& changed = incremental.join().at(room);
  EXPECT_TRUE(changed.timeline().limited());
  std::string client_topic;  // what a client computes: state, then the timeline in order
  for (const auto* events : {&changed.state_json(), &changed.timeline().events_json()}) {
    for (const std::string& json : *events) {
      matrix::Json event = *matrix::ParseJson(json);
      if (event["type"] == "m.room.topic") client_topic = event.value("event_id", "");
    }
  }
  EXPECT_EQ(client_topic, topic_a.id);
}

TEST_F(SyncApiTest, NothingNewTimesOutWithTheSameToken) {
  const std::string room = CreateRoom();
  v1::SyncResponse initial = SyncUntilRoom(kAlice, room, 6);
  v1::SyncResponse idle;
  absl::Time start = absl::Now();
  ASSERT_TRUE(Sync(kAlice, initial.next_batch(), 400, &idle).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(350));
  EXPECT_EQ(idle.next_batch(), initial.next_batch());
  EXPECT_TRUE(idle.join().empty());
}

TEST_F(SyncApiTest, ACancelledLongPollStopsWaitingAtOnce) {
  const std::string room = CreateRoom();
  v1::SyncResponse initial = SyncUntilRoom(kAlice, room, 6);
  v1::SyncRequest request;
  request.set_user_id(kAlice);
  request.set_device_id("PHONE");
  request.set_since(initial.next_batch());
  request.set_timeout_ms(60000);
  grpc::ClientContext ctx;
  v1::SyncResponse response;
  absl::Notification done;
  grpc::Status status;
  sy_->async()->Sync(&ctx, &request, &response, [&](grpc::Status s) {
    status = s;
    done.Notify();
  });
  for (int i = 0; i < 200 && sync_->waiting_syncs() == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(sync_->waiting_syncs(), 1u) << "the long-poll parked";
  ctx.TryCancel();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  for (int i = 0; i < 200 && sync_->waiting_syncs() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(sync_->waiting_syncs(), 0u) << "the server let go of it, long before its 60 s";
}

TEST_F(SyncApiTest, ARedeliveredEventChangesNothing) {
  const std::string room = CreateRoom();
  const std::string event_id = Say(kAlice, room, "once");
  v1::SyncResponse before = SyncUntilRoom(kAlice, room, 7);

  // Publish the same event again under another message id (JetStream cannot dedup it).
  rs::QueryEventsByIdRequest query;
  query.add_event_ids(event_id);
  rs::QueryEventsByIdResponse found;
  grpc::ClientContext ctx;
  ASSERT_TRUE(rs_->QueryEventsById(&ctx, query, &found).ok());
  rs::OutputEvent again;
  again.set_room_id(room);
  again.mutable_new_room_event()->set_event_id(event_id);
  again.mutable_new_room_event()->set_event_json(found.events_json(0));
  ASSERT_TRUE(js_->Publish(roomserver::OutputSubjectPrefix(config_) + ".x",
                           roomserver::EncodeOutputPayload(again), "redelivery-1")
                  .ok());
  Say(kAlice, room, "after");  // a marker: once it is visible, the duplicate was handled
  v1::SyncResponse after = SyncUntilRoom(kAlice, room, 8);
  EXPECT_EQ(Bodies(after.join().at(room)), (std::vector<std::string>{"once", "after"}));
}

TEST_F(SyncApiTest, RedactedEventsAreServedRedacted) {
  const std::string room = CreateRoom();
  const std::string secret = Say(kAlice, room, "secret");
  rs::PerformSendEventRequest redact;
  redact.set_user_id(kAlice);
  redact.set_room_id(room);
  redact.set_event_type("m.room.redaction");
  redact.set_content_json(R"({"reason":"oops"})");
  redact.set_redacts(secret);
  grpc::ClientContext ctx;
  rs::PerformSendEventResponse redaction;
  ASSERT_TRUE(rs_->PerformSendEvent(&ctx, redact, &redaction).ok());

  // The target is redacted right after the redaction is stored: poll until it shows.
  matrix::Json seen;
  for (int i = 0; i < 200 && !seen.contains("unsigned"); ++i) {
    v1::SyncResponse sync = SyncUntilRoom(kAlice, room, 8);
    for (const std::string& json : sync.join().at(room).timeline().events_json()) {
      matrix::Json event = matrix::Json::parse(json);
      if (event["event_id"] == secret && event["content"].empty()) seen = event;
    }
    if (!seen.contains("unsigned")) absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_TRUE(seen.contains("unsigned")) << "the secret was never served redacted";
  EXPECT_EQ(seen["unsigned"]["redacted_because"]["event_id"], redaction.event_id());
  EXPECT_EQ(seen["unsigned"]["redacted_because"]["content"]["reason"], "oops");
}

TEST_F(SyncApiTest, FiltersLazyMembersAndHeroes) {
  constexpr char kCarol[] = "@carol:sy.test";
  const std::string room = CreateRoom();  // no name, no alias: heroes are sent
  Join(kBob, room);
  Join(kCarol, room);
  Say(kBob, room, "from bob");
  v1::SyncResponse plain = SyncUntilRoom(kAlice, room, 9);
  const v1::RoomSummary& summary = plain.join().at(room).summary();
  EXPECT_EQ(std::vector<std::string>(summary.heroes().begin(), summary.heroes().end()),
            (std::vector<std::string>{kBob, kCarol}));

  v1::SyncResponse filtered;
  ASSERT_TRUE(Sync(kAlice, "", 0, &filtered,
                   R"({"room":{"timeline":{"types":["m.room.message"]},
                       "state":{"lazy_load_members":true,"not_types":["m.room.guest_access"]}}})")
                  .ok());
  const v1::JoinedRoom& joined = filtered.join().at(room);
  EXPECT_EQ(Bodies(joined), std::vector<std::string>{"from bob"});
  EXPECT_EQ(joined.timeline().events_json_size(), 1) << "only messages in the timeline";
  std::set<std::string> members;
  for (const std::string& json : joined.state_json()) {
    matrix::Json event = matrix::Json::parse(json);
    EXPECT_NE(event["type"], "m.room.guest_access");
    if (event["type"] == "m.room.member") members.insert(event["state_key"].get<std::string>());
  }
  EXPECT_EQ(members, (std::set<std::string>{kAlice, kBob})) << "carol sent nothing";
}

TEST_F(SyncApiTest, TimelineLimitAndBadInput) {
  const std::string room = CreateRoom();
  for (int i = 0; i < 5; ++i) Say(kAlice, room, "m" + std::to_string(i));
  v1::SyncResponse full = SyncUntilRoom(kAlice, room, 11);
  v1::SyncResponse limited;
  ASSERT_TRUE(Sync(kAlice, "", 0, &limited, R"({"room":{"timeline":{"limit":2}}})").ok());
  const v1::Timeline& timeline = limited.join().at(room).timeline();
  EXPECT_TRUE(timeline.limited());
  EXPECT_EQ(Bodies(limited.join().at(room)), (std::vector<std::string>{"m3", "m4"}));

  v1::SyncResponse ignored;
  EXPECT_EQ(Sync(kAlice, "not-ours", 0, &ignored).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Sync(kAlice, "", 0, &ignored, "{oops").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Sync(kAlice, "", 0, &ignored, R"({"room":{"timeline":{"limit":-1}}})").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      Sync(kAlice, "", 0, &ignored, R"({"room":{"state":{"types":"m.room.name"}}})").error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SyncApiTest, AccountDataIsStoredSyncedAndWakesALongPoll) {
  const std::string room = CreateRoom();
  ASSERT_TRUE(PutAccountData("", "m.direct", R"({"@bob:sy.test":["!x:sy.test"]})").ok());
  ASSERT_TRUE(PutAccountData(room, "m.tag", R"({"tags":{"u.work":{"order":0.5}}})").ok());
  v1::SyncResponse initial = SyncUntilRoom(kAlice, room, 6);
  EXPECT_EQ(AccountData(initial.account_data_json())["m.direct"]["@bob:sy.test"][0], "!x:sy.test");
  EXPECT_EQ(
      AccountData(initial.join().at(room).account_data_json())["m.tag"]["tags"]["u.work"]["order"],
      0.5)
      << "floats are fine in account data";

  // Read back; a missing type is NOT_FOUND.
  v1::QueryAccountDataRequest query;
  query.set_user_id(kAlice);
  query.set_type("m.direct");
  v1::QueryAccountDataResponse got;
  grpc::ClientContext ctx;
  ASSERT_TRUE(sy_->QueryAccountData(&ctx, query, &got).ok());
  EXPECT_EQ(matrix::Json::parse(got.content_json())["@bob:sy.test"][0], "!x:sy.test");
  query.set_type("m.nothing");
  grpc::ClientContext ctx2;
  EXPECT_EQ(sy_->QueryAccountData(&ctx2, query, &got).error_code(), grpc::StatusCode::NOT_FOUND);

  // A waiting sync is woken by a change, and carries only what changed; an unchanged room with
  // changed room account data appears with it alone.
  absl::Time start = absl::Now();
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_TRUE(PutAccountData(room, "m.tag", R"({"tags":{}})").ok());
  });
  v1::SyncResponse woken;
  ASSERT_TRUE(Sync(kAlice, initial.next_batch(), 10000, &woken).ok());
  writer.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(8)) << "woken, not timed out";
  EXPECT_TRUE(woken.account_data_json().empty()) << "m.direct did not change";
  ASSERT_TRUE(woken.join().contains(room));
  EXPECT_TRUE(woken.join().at(room).timeline().events_json().empty());
  EXPECT_FALSE(woken.join().at(room).has_summary()) << "no membership change: no summary";
  EXPECT_TRUE(initial.join().at(room).has_summary());
  EXPECT_EQ(AccountData(woken.join().at(room).account_data_json())["m.tag"],
            matrix::Json::parse(R"({"tags":{}})"));
  EXPECT_NE(woken.next_batch(), initial.next_batch());

  // Bad input is refused and stores nothing.
  EXPECT_EQ(PutAccountData("", "m.x", "[1]").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(PutAccountData("", "m.x", "{oops").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(PutAccountData("", "", "{}").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(PutAccountData("not-a-room", "m.x", "{}").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(PutAccountData("", "m.x", std::string(70000, ' ') + "{}").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::SyncResponse after;
  ASSERT_TRUE(Sync(kAlice, woken.next_batch(), 0, &after).ok());
  EXPECT_EQ(after.next_batch(), woken.next_batch()) << "nothing was stored";
}

TEST_F(SyncApiTest, APeekedRoomSyncsLikeAJoinedOneForItsDeviceOnly) {
  const std::string room = CreateReadableRoom();
  Say(kAlice, room, "before the peek");
  v1::SyncResponse bob_start;
  ASSERT_TRUE(DeviceSync(kBob, "PHONE", "", 0, &bob_start).ok());
  v1::SyncResponse laptop;
  ASSERT_TRUE(DeviceSync(kBob, "LAPTOP", "", 0, &laptop).ok());

  // The waiting sync of the peeking device is woken by its own new peek, and gets the room in
  // full under rooms.peek.
  std::thread peeker([&] {
    absl::SleepFor(absl::Milliseconds(300));
    Peek(kBob, "PHONE", room);
  });
  v1::SyncResponse first =
      SyncUntil(kBob, "PHONE", bob_start.next_batch(),
                [&](const v1::SyncResponse& r) { return r.peek().contains(room); });
  peeker.join();
  ASSERT_TRUE(first.peek().contains(room));
  EXPECT_TRUE(first.join().empty());
  const v1::JoinedRoom& peeked = first.peek().at(room);
  std::vector<std::string> all = Types(peeked.state_json());
  for (const std::string& t : Types(peeked.timeline().events_json())) all.push_back(t);
  EXPECT_NE(std::find(all.begin(), all.end(), "m.room.create"), all.end()) << "full state";
  EXPECT_EQ(Bodies(peeked), std::vector<std::string>{"before the peek"});
  EXPECT_TRUE(peeked.has_summary());

  // Another device of the same user never sees it.
  v1::SyncResponse other;
  ASSERT_TRUE(DeviceSync(kBob, "LAPTOP", laptop.next_batch(), 0, &other).ok());
  EXPECT_FALSE(other.peek().contains(room));

  // New events arrive incrementally and wake the peeker; an unchanged room does not reappear.
  std::thread speaker([&] {
    absl::SleepFor(absl::Milliseconds(300));
    Say(kAlice, room, "during the peek");
  });
  v1::SyncResponse next =
      SyncUntil(kBob, "PHONE", first.next_batch(),
                [&](const v1::SyncResponse& r) { return r.peek().contains(room); });
  speaker.join();
  EXPECT_EQ(Bodies(next.peek().at(room)), std::vector<std::string>{"during the peek"});
  EXPECT_TRUE(next.peek().at(room).state_json().empty()) << "no state resent";
  v1::SyncResponse quiet;
  ASSERT_TRUE(DeviceSync(kBob, "PHONE", next.next_batch(), 200, &quiet).ok());
  EXPECT_TRUE(quiet.peek().empty());

  // Unpeek: the room appears once under rooms.leave, then never again.
  Unpeek(kBob, "PHONE", room);
  v1::SyncResponse left =
      SyncUntil(kBob, "PHONE", next.next_batch(),
                [&](const v1::SyncResponse& r) { return r.leave().contains(room); });
  EXPECT_FALSE(left.peek().contains(room));
  v1::SyncResponse after;
  ASSERT_TRUE(DeviceSync(kBob, "PHONE", left.next_batch(), 200, &after).ok());
  EXPECT_TRUE(after.leave().empty());
  EXPECT_TRUE(after.peek().empty());

  // Peek again (full state again), then join: the room moves to rooms.join without its state.
  Peek(kBob, "PHONE", room);
  v1::SyncResponse again =
      SyncUntil(kBob, "PHONE", after.next_batch(),
                [&](const v1::SyncResponse& r) { return r.peek().contains(room); });
  EXPECT_FALSE(again.peek().at(room).state_json().empty() &&
               again.peek().at(room).timeline().events_json().empty());
  Join(kBob, room);
  v1::SyncResponse joined =
      SyncUntil(kBob, "PHONE", again.next_batch(),
                [&](const v1::SyncResponse& r) { return r.join().contains(room); });
  EXPECT_FALSE(joined.peek().contains(room));
  EXPECT_FALSE(joined.leave().contains(room)) << "a join is not a leave";
  const v1::JoinedRoom& now_joined = joined.join().at(room);
  EXPECT_EQ(Types(now_joined.timeline().events_json()), std::vector<std::string>{"m.room.member"})
      << "only the join itself, no state resent";
  EXPECT_TRUE(now_joined.state_json().empty());
}

TEST_F(SyncApiTest, PeeksLiveWhileTheirDeviceSyncsAndExpireWhenItStops) {
  const std::string room = CreateReadableRoom();
  auto peekers = [&] {
    rs::QueryLocalPeekersRequest request;
    request.set_room_id(room);
    grpc::ClientContext ctx;
    rs::QueryLocalPeekersResponse response;
    EXPECT_TRUE(rs_->QueryLocalPeekers(&ctx, request, &response).ok());
    return response.peekers_size();
  };
  v1::SyncResponse start;
  ASSERT_TRUE(DeviceSync(kBob, "PHONE", "", 0, &start).ok());
  v1::SyncResponse idle_start;
  ASSERT_TRUE(DeviceSync(kBob, "IDLE", "", 0, &idle_start).ok());
  Peek(kBob, "PHONE", room);
  Peek(kBob, "IDLE", room);

  // PHONE keeps syncing for twice the 2 s lifetime: its peek lives on.
  std::string since = start.next_batch();
  bool seen = false;
  const absl::Time until = absl::Now() + absl::Seconds(4);
  while (absl::Now() < until) {
    v1::SyncResponse r;
    ASSERT_TRUE(DeviceSync(kBob, "PHONE", since, 300, &r).ok());
    seen = seen || r.peek().contains(room);
    EXPECT_FALSE(r.leave().contains(room)) << "renewed by syncing, never expired";
    since = r.next_batch();
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(peekers(), 1) << "IDLE never synced after peeking: its peek expired";

  // IDLE never saw its peek, so it has nothing to leave.
  v1::SyncResponse idle;
  ASSERT_TRUE(DeviceSync(kBob, "IDLE", idle_start.next_batch(), 0, &idle).ok());
  EXPECT_FALSE(idle.peek().contains(room));
  EXPECT_FALSE(idle.leave().contains(room));

  // PHONE stops syncing: within a lifetime its peek expires, and it finds the room under
  // rooms.leave when it comes back.
  absl::SleepFor(absl::Milliseconds(2600));
  EXPECT_EQ(peekers(), 0);
  v1::SyncResponse back = SyncUntil(
      kBob, "PHONE", since, [&](const v1::SyncResponse& r) { return r.leave().contains(room); });
  EXPECT_FALSE(back.peek().contains(room));
}

}  // namespace
}  // namespace periscope::syncapi
