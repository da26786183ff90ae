#pragma once
// The roomserver over real gRPC, PostgreSQL and nats-server, for integration tests: start, stop
// and restart it, call its verbs, read its output stream.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "internal/roomserver/api/output_stream.h"
#include "internal/roomserver/roomserver_component.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/crypto/random.h"
#include "pkg/grpc/grpc_server.h"
#include "pkg/grpc/status_conversion.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"
#include "tests/testing/test_services.h"

namespace periscope::roomserver::testing {

constexpr char kServer[] = "rs.test";
constexpr char kAlice[] = "@alice:rs.test";
constexpr char kBob[] = "@bob:rs.test";

class RoomserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitSodium();
    auto db = periscope::testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto nats = periscope::testing::NatsServerProcess::Start();
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
    config_.server_name = kServer;
    config_.peeking.local_peek_lifetime = absl::Seconds(1);
    config_.nats.stream_prefix = "RS" + crypto::RandomString(6, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    key_ = *matrix::GenerateSigningKey("t1");
    StartRoomserver();
  }

  void StartRoomserver() {
    auto pool = pg::Pool::Create(
        {.dsn = db_->dsn(), .max_connections = pool_size_, .acquire_timeout = absl::Seconds(2)});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    auto js = stream::JetStream::Connect({.url = nats_->url()});
    ASSERT_TRUE(js.ok()) << js.status();
    js_ = *std::move(js);
    auto component = RoomserverComponent::Create(config_, *pool_, *js_, key_);
    ASSERT_TRUE(component.ok()) << component.status();
    component_ = *std::move(component);
    auto server = grpcutil::GrpcServer::Start(
        {.listen_address = "127.0.0.1:0", .services = component_->services()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::RoomserverService::NewStub(server_->InProcessChannel());
  }

  void StopRoomserver() {
    stub_.reset();
    server_->Shutdown(absl::Seconds(1));
    server_.reset();
    component_.reset();
    js_.reset();
    pool_.reset();
  }

  absl::StatusOr<v1::PerformCreateRoomResponse> CreateRoom(v1::PerformCreateRoomRequest request) {
    if (request.user_id().empty()) request.set_user_id(kAlice);
    grpc::ClientContext ctx;
    v1::PerformCreateRoomResponse response;
    grpc::Status status = stub_->PerformCreateRoom(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return response;
  }

  absl::StatusOr<std::string> Send(const std::string& room_id, const std::string& sender,
                                   const std::string& type, const std::string& content,
                                   const std::string& txn_id = "",
                                   std::optional<std::string> state_key = std::nullopt,
                                   const std::string& redacts = "") {
    v1::PerformSendEventRequest request;
    request.set_user_id(sender);
    request.set_device_id("DEV");
    request.set_room_id(room_id);
    request.set_event_type(type);
    request.set_content_json(content);
    request.set_txn_id(txn_id);
    request.set_redacts(redacts);
    if (state_key) request.set_state_key(*state_key);
    grpc::ClientContext ctx;
    v1::PerformSendEventResponse response;
    grpc::Status status = stub_->PerformSendEvent(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return response.event_id();
  }

  absl::StatusOr<v1::PerformMembershipResponse> Member(const std::string& sender,
                                                       const std::string& room,
                                                       v1::MembershipAction action,
                                                       const std::string& target = "") {
    v1::PerformMembershipRequest request;
    request.set_sender(sender);
    request.set_room_id_or_alias(room);
    request.set_action(action);
    request.set_target_user_id(target);
    grpc::ClientContext ctx;
    v1::PerformMembershipResponse response;
    grpc::Status status = stub_->PerformMembership(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return response;
  }

  absl::StatusOr<v1::PerformPeekResponse> Peek(const std::string& user, const std::string& device,
                                               const std::string& room) {
    v1::PerformPeekRequest request;
    request.set_user_id(user);
    request.set_device_id(device);
    request.set_room_id_or_alias(room);
    grpc::ClientContext ctx;
    v1::PerformPeekResponse response;
    grpc::Status status = stub_->PerformPeek(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return response;
  }

  absl::Status Unpeek(const std::string& user, const std::string& device, const std::string& room,
                      v1::UnpeekReason reason = v1::UNPEEK_REASON_CLIENT) {
    v1::PerformUnpeekRequest request;
    request.set_user_id(user);
    request.set_device_id(device);
    request.set_room_id(room);
    request.set_reason(reason);
    grpc::ClientContext ctx;
    v1::PerformUnpeekResponse response;
    grpc::Status status = stub_->PerformUnpeek(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return absl::OkStatus();
  }

  // "user/device" of each live local peeker.
  std::vector<std::string> Peekers(const std::string& room) {
    v1::QueryLocalPeekersRequest request;
    request.set_room_id(room);
    grpc::ClientContext ctx;
    v1::QueryLocalPeekersResponse response;
    EXPECT_TRUE(stub_->QueryLocalPeekers(&ctx, request, &response).ok());
    std::vector<std::string> out;
    for (const v1::LocalPeeker& p : response.peekers()) {
      out.push_back(p.user_id() + "/" + p.device_id());
    }
    return out;
  }

  std::vector<matrix::Json> State(const std::string& room_id) {
    v1::QueryCurrentStateRequest request;
    request.set_room_id(room_id);
    grpc::ClientContext ctx;
    v1::QueryCurrentStateResponse response;
    EXPECT_TRUE(stub_->QueryCurrentState(&ctx, request, &response).ok());
    std::vector<matrix::Json> out;
    for (const std::string& json : response.state_json()) out.push_back(*matrix::ParseJson(json));
    return out;
  }

  // Reads the whole output stream (a fresh ephemeral-like durable each call).
  std::vector<v1::OutputEvent> ReadOutput(size_t want) {
    return ReadOutputUntil(
        [want](const std::vector<v1::OutputEvent>& got) { return got.size() >= want; });
  }
  std::vector<v1::OutputEvent> ReadOutputUntil(
      const std::function<bool(const std::vector<v1::OutputEvent>&)>& done) {
    std::vector<v1::OutputEvent> got;
    absl::Mutex mu;
    stream::PullConsumerOptions options;
    options.spec.stream = OutputStreamSpec(config_).name;
    options.spec.durable = "reader" + crypto::RandomString(8, "abcdefghijklmnopqrstuvwxyz");
    EXPECT_TRUE(js_->DeclareConsumer(options.spec).ok());
    auto consumer = stream::PullConsumer::Start(*js_, options, [&](const stream::Message& m) {
      absl::StatusOr<v1::OutputEvent> event = DecodeOutputPayload(m.data);
      EXPECT_TRUE(event.ok());
      absl::MutexLock lock(&mu);
      if (event.ok()) got.push_back(*event);
      return stream::Outcome::Ack();
    });
    EXPECT_TRUE(consumer.ok());
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu);
        if (done(got)) break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    absl::SleepFor(absl::Milliseconds(300));  // anything beyond `want` would show up too
    (*consumer)->Stop();
    absl::MutexLock lock(&mu);
    return got;
  }

  int pool_size_ = 4;
  std::unique_ptr<periscope::testing::TestDatabase> db_;
  std::unique_ptr<periscope::testing::NatsServerProcess> nats_;
  config::Config config_;
  matrix::SigningKey key_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<stream::JetStream> js_;
  std::unique_ptr<RoomserverComponent> component_;
  std::unique_ptr<grpcutil::GrpcServer> server_;
  std::unique_ptr<v1::RoomserverService::Stub> stub_;
};

}  // namespace periscope::roomserver::testing
