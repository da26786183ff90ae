#pragma once
// Another homeserver, as integration tests need one before federation exists: it builds and
// signs events of its users that follow a given event (authorised by the roomserver's state
// after it, read with QueryStateAtEvent) and hands them to InputRoomEvents, as federationapi
// will. This is how tests fork a room: two remote events naming the same prev event.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::roomserver::testing {

class RemoteServer {
 public:
  struct Event {
    std::string id;
    std::string json;
  };

  RemoteServer(std::string name, v1::RoomserverService::StubInterface& roomserver)
      : name_(std::move(name)), roomserver_(roomserver), key_(*matrix::GenerateSigningKey("r1")) {}

  // An event of `sender` (a user of this server) following `prev`, which the roomserver stored.
  Event Build(const std::string& room_id, const std::string& sender, const std::string& type,
              std::optional<std::string> state_key, matrix::Json content, const std::string& prev,
              int64_t origin_server_ts, int room_version = 10) {
    v1::QueryStateAtEventRequest request;
    request.set_room_id(room_id);
    request.set_event_id(prev);
    request.set_after(true);
    request.set_include_events(true);
    grpc::ClientContext ctx;
    v1::QueryStateAtEventResponse state;
    grpc::Status status = roomserver_.QueryStateAtEvent(&ctx, request, &state);
    EXPECT_TRUE(status.ok()) << status.error_message();
    matrix::AuthEvents auth;
    for (int i = 0; i < state.state_event_ids_size(); ++i) {
      EXPECT_TRUE(
          auth.Add(state.state_event_ids(i), *matrix::ParseJson(state.state_events_json(i))).ok());
    }
    matrix::ProtoEvent proto;
    proto.room_id = room_id;
    proto.sender = sender;
    proto.type = type;
    proto.state_key = std::move(state_key);
    proto.content = std::move(content);
    proto.origin_server_ts = origin_server_ts;
    absl::StatusOr<matrix::BuiltEvent> built =
        matrix::BuildEvent(proto, auth, {{prev, Depth(prev)}}, room_version, name_, key_);
    EXPECT_TRUE(built.ok()) << built.status();
    if (!built.ok()) return {};
    return {built->event_id, *matrix::EncodeCanonicalJson(built->event)};
  }

  // Inputs `events` as new events from this server, in order.
  v1::InputRoomEventsResponse Send(const std::vector<Event>& events) {
    v1::InputRoomEventsRequest request;
    for (const Event& e : events) {
      v1::InputRoomEvent* input = request.add_events();
      input->set_kind(v1::INPUT_KIND_NEW);
      input->set_event_json(e.json);
      input->set_origin(name_);
    }
    grpc::ClientContext ctx;
    v1::InputRoomEventsResponse response;
    grpc::Status status = roomserver_.InputRoomEvents(&ctx, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // True if every event was accepted (not rejected, soft-failed or left unprocessed).
  static bool AllAccepted(const v1::InputRoomEventsResponse& response) {
    return response.rejected().empty() && response.not_processed().empty() &&
           response.soft_failed_event_ids().empty();
  }

 private:
  int64_t Depth(const std::string& event_id) {
    v1::QueryEventsByIdRequest request;
    request.add_event_ids(event_id);
    grpc::ClientContext ctx;
    v1::QueryEventsByIdResponse response;
    if (!roomserver_.QueryEventsById(&ctx, request, &response).ok() ||
        response.events_json_size() == 0) {
      return 1;  // unknown to the roomserver: the test means it to be
    }
    const matrix::Json event = *matrix::ParseJson(response.events_json(0));
    return event.value("depth", int64_t{1});
  }

  std::string name_;
  v1::RoomserverService::StubInterface& roomserver_;
  matrix::SigningKey key_;
};

}  // namespace periscope::roomserver::testing
