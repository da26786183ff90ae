// Another server's peek (MSC2444) on a real roomserver (gRPC, PostgreSQL, nats-server): the
// snapshot and new_inbound_peek are one place in the room's stream. What must not happen: an event
// committed between the snapshot and the registration (Dendrite's race: it would be in neither the
// snapshot nor the relay), or a refused peek writing anything into the stream.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "internal/roomserver/testing/roomserver_fixture.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver::testing {
namespace {

class InboundPeekTest : public RoomserverTest {
 protected:
  std::string CreateRoom(const std::string& visibility, bool encrypted = false) {
    v1::PerformCreateRoomRequest request;
    request.set_preset(v1::ROOM_PRESET_PUBLIC_CHAT);
    v1::StateEvent* readable = request.add_initial_state();
    readable->set_type("m.room.history_visibility");
    readable->set_content_json(absl::StrCat(R"({"history_visibility":")", visibility, R"("})"));
    if (encrypted) {
      v1::StateEvent* e = request.add_initial_state();
      e->set_type("m.room.encryption");
      e->set_content_json(R"({"algorithm":"m.megolm.v1.aes-sha2"})");
    }
    absl::StatusOr<v1::PerformCreateRoomResponse> room = RoomserverTest::CreateRoom(request);
    EXPECT_TRUE(room.ok()) << room.status();
    return room.ok() ? room->room_id() : "";
  }
  absl::StatusOr<v1::PerformInboundPeekResponse> InboundPeek(const std::string& room,
                                                             const std::string& peek_id = "pk",
                                                             std::vector<std::string> versions = {
                                                                 "10", "11", "12"}) {
    v1::PerformInboundPeekRequest request;
    request.set_room_id(room);
    request.set_peek_id(peek_id);
    request.set_server_name("peer.test");
    for (const auto& v : versions) request.add_supported_room_versions(v);
    request.set_renewal_interval_ms(60000);
    grpc::ClientContext ctx;
    v1::PerformInboundPeekResponse response;
    grpc::Status status = stub_->PerformInboundPeek(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return response;
  }
};

TEST_F(InboundPeekTest, TheSnapshotIsExactlyTheEventsBeforeThePeeksPlaceEvenUnderConcurrentSends) {
  const std::string room = CreateRoom("world_readable");
  std::atomic<bool> go{true};
  std::atomic<int> sent{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&, t] {
      for (int n = 0; go && n < 200; ++n) {
        if (Send(room, kAlice, "m.room.message", absl::StrCat(R"({"body":"t)", t, "-", n, R"("})"))
                .ok()) {
          ++sent;
        }
      }
    });
  }
  while (sent < 40) absl::SleepFor(absl::Milliseconds(1));
  absl::StatusOr<v1::PerformInboundPeekResponse> snapshot = InboundPeek(room);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  absl::SleepFor(absl::Milliseconds(50));
  go = false;
  for (auto& t : senders) t.join();

  std::vector<v1::OutputEvent> stream = ReadOutputUntil([&](const auto& got) {
    int events = 0;
    for (const auto& o : got) events += o.room_id() == room && o.has_new_room_event();
    return events >= sent.load();
  });
  std::string before;  // the last event of the room before the peek's place
  bool found = false;
  int after = 0;
  for (const v1::OutputEvent& o : stream) {
    if (o.room_id() != room) continue;
    if (o.has_new_inbound_peek()) {
      ASSERT_FALSE(found) << "one place in the stream";
      found = true;
      EXPECT_EQ(o.new_inbound_peek().server_name(), "peer.test");
      EXPECT_EQ(o.new_inbound_peek().peek_id(), "pk");
      EXPECT_EQ(o.new_inbound_peek().renewal_interval_ms(), 60000);
      EXPECT_GT(o.new_inbound_peek().peeked_ts(), 0);
      EXPECT_EQ(o.new_inbound_peek().latest_event_id(), before);
    } else if (o.has_new_room_event()) {
      if (found) {
        ++after;
      } else {
        before = o.new_room_event().event_id();
      }
    }
  }
  ASSERT_TRUE(found);
  EXPECT_GT(after, 0) << "sends went on after the peek (else the race was not run)";
  EXPECT_EQ(snapshot->latest_event_id(), before);
  ASSERT_EQ(snapshot->latest_event_state_ids().size(), 1u) << "one sender: one extremity";
  EXPECT_TRUE(snapshot->latest_event_state_ids().contains(before));
  // The state after the latest event is the room's: create, member, power levels, rules...
  const size_t state_size = snapshot->common_state_ids_size() +
                            snapshot->latest_event_state_ids().at(before).event_ids_size();
  EXPECT_EQ(state_size, State(room).size());
  EXPECT_EQ(snapshot->room_version(), "12");
}

TEST_F(InboundPeekTest, RefusedPeeksWriteNothing) {
  const std::string open = CreateRoom("world_readable");
  const std::string shared = CreateRoom("shared");
  const std::string encrypted = CreateRoom("world_readable", /*encrypted=*/true);
  auto errcode = [](const absl::StatusOr<v1::PerformInboundPeekResponse>& r) {
    return MatrixErrcode(r.status()).value_or(r.status().ToString());
  };
  EXPECT_EQ(errcode(InboundPeek(shared)), "M_FORBIDDEN");
  EXPECT_EQ(errcode(InboundPeek(encrypted)), "M_FORBIDDEN");
  EXPECT_EQ(errcode(InboundPeek("!nope:rs.test")), "M_NOT_FOUND");
  EXPECT_EQ(errcode(InboundPeek(open, "toolongid")), "M_UNRECOGNIZED");
  absl::StatusOr<v1::PerformInboundPeekResponse> old = InboundPeek(open, "pk", {"1", "2"});
  EXPECT_EQ(errcode(old), "M_INCOMPATIBLE_ROOM_VERSION");
  EXPECT_NE(MatrixErrorFields(old.status()).value_or("").find(R"("room_version":"12")"),
            std::string::npos);
  EXPECT_EQ(errcode(InboundPeek(open, "pk", {})), "M_INCOMPATIBLE_ROOM_VERSION")
      << "no ver: version 1 only";
  ASSERT_TRUE(InboundPeek(open, open).ok()) << "Dendrite's room-id peek id";
  // (Until the accepted peek's entry; anything more would come within the reader's grace.)
  std::vector<v1::OutputEvent> stream = ReadOutputUntil([](const auto& got) {
    for (const auto& o : got) {
      if (o.has_new_inbound_peek()) return true;
    }
    return false;
  });
  int peeks = 0;
  for (const auto& o : stream) peeks += o.has_new_inbound_peek();
  EXPECT_EQ(peeks, 1) << "only the accepted peek entered the stream";
}

// A DELETE the federationsender could not match puts the peek's end into the room's stream,
// behind its start and anything sent before it; an unknown room or a bad id writes nothing.
TEST_F(InboundPeekTest, ARetiredPeekEndsBehindItsStartInTheRoomsStream) {
  const std::string room = CreateRoom("world_readable");
  ASSERT_TRUE(InboundPeek(room, "pk").ok());
  ASSERT_TRUE(Send(room, kAlice, "m.room.message", R"({"body":"between"})").ok());
  auto retire = [&](const std::string& room_id, const std::string& peek_id) {
    v1::PerformRetireInboundPeekRequest request;
    request.set_room_id(room_id);
    request.set_server_name("peer.test");
    request.set_peek_id(peek_id);
    grpc::ClientContext ctx;
    v1::PerformRetireInboundPeekResponse response;
    grpc::Status status = stub_->PerformRetireInboundPeek(&ctx, request, &response);
    return status.ok() ? absl::OkStatus() : grpcutil::FromGrpcStatus(status, ctx);
  };
  EXPECT_EQ(MatrixErrcode(retire("!nope:rs.test", "pk")).value_or(""), "M_NOT_FOUND");
  EXPECT_EQ(MatrixErrcode(retire(room, "toolongid")).value_or(""), "M_UNRECOGNIZED");
  ASSERT_TRUE(retire(room, "pk").ok());
  std::vector<v1::OutputEvent> stream = ReadOutputUntil([](const auto& got) {
    for (const auto& o : got) {
      if (o.has_retire_inbound_peek()) return true;
    }
    return false;
  });
  int64_t started = -1, sent = -1, ended = -1, ends = 0;
  for (const auto& o : stream) {
    if (o.room_id() != room) continue;
    if (o.has_new_inbound_peek()) started = o.room_sequence();
    if (o.has_new_room_event() &&
        o.new_room_event().event_json().find("between") != std::string::npos) {
      sent = o.room_sequence();
    }
    if (o.has_retire_inbound_peek()) {
      ++ends;
      ended = o.room_sequence();
      EXPECT_EQ(o.retire_inbound_peek().server_name(), "peer.test");
      EXPECT_EQ(o.retire_inbound_peek().peek_id(), "pk");
    }
  }
  EXPECT_EQ(ends, 1);
  EXPECT_LT(started, sent);
  EXPECT_LT(sent, ended);
}

}  // namespace
}  // namespace periscope::roomserver::testing
