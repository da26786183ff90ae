#pragma once
// PerformCreateRoom: the createRoom events in the spec's order (create, creator join, power
// levels, canonical alias, preset join rules / history visibility / guest access, initial_state,
// name, topic, invites), all in the room's first write transaction, so that a refused request
// (a bad initial_state event, a taken alias) leaves no room behind.

#include "absl/status/statusor.h"
#include "internal/roomserver/perform/event_writer.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::roomserver {

inline constexpr int kDefaultRoomVersion = 12;

class RoomCreator {
 public:
  RoomCreator(RoomStore& store, EventWriter& writer) : store_(store), writer_(writer) {}

  absl::StatusOr<v1::PerformCreateRoomResponse> Create(const v1::PerformCreateRoomRequest& request);

 private:
  RoomStore& store_;
  EventWriter& writer_;
};

}  // namespace periscope::roomserver
