#pragma once
// What the federation read endpoints need of the roomserver: events by id, the state at an
// event, and the room's current state. Over gRPC in the service; faked in unit tests.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"

namespace periscope::federationapi {

struct StoredPdu {
  std::string event_id;
  std::string room_id;
  std::string json;
};

class RoomReads {
 public:
  virtual ~RoomReads() = default;
  // The events found (unknown ids left out).
  virtual absl::StatusOr<std::vector<StoredPdu>> EventsById(
      const std::vector<std::string>& ids) = 0;
  // The state before (or after) the event; NOT_FOUND if the event or its state is unknown.
  virtual absl::StatusOr<std::vector<StoredPdu>> StateAtEvent(const std::string& room_id,
                                                              const std::string& event_id,
                                                              bool after) = 0;
  // The room's current state (NOT_FOUND for an unknown room).
  virtual absl::StatusOr<std::vector<StoredPdu>> CurrentState(const std::string& room_id) = 0;
};

std::unique_ptr<RoomReads> NewGrpcRoomReads(roomserver::v1::RoomserverService::StubInterface& stub,
                                            absl::Duration timeout);

}  // namespace periscope::federationapi
