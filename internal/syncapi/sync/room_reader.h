#pragma once
// GET /rooms/{roomId}/event/{eventId}, /state[/{type}[/{key}]], /members and /joined_members,
// answered from syncapi's copy of the room, so that every client read of room events has one
// read model: redactions applied (the consumer stores redacted events) and history visibility
// enforced in one place (sync/visibility.h).
//
// State: a joined member, or anyone while the room is world_readable, reads the current state; a
// former member (left, kicked, banned, having once joined) reads the state as it was when they
// left; others (an invited user of a private room, one who rejected an invite, an outsider banned
// pre-emptively) get 403 M_FORBIDDEN whether or not the room exists.

#include "absl/status/statusor.h"
#include "internal/syncapi/storage/sync_store.h"
#include "internal/syncapi/sync/read_fence.h"
#include "periscope/syncapi/v1/syncapi.pb.h"

namespace periscope::syncapi {

class RoomReader {
 public:
  // Each read first catches up with the room's committed writes (`fence`).
  RoomReader(SyncStore& store, ReadFence& fence) : store_(store), fence_(fence) {}

  // 404 M_NOT_FOUND for an event the room does not have or the user may not see.
  absl::StatusOr<v1::QueryRoomEventResponse> Event(const v1::QueryRoomEventRequest& request);
  absl::StatusOr<v1::QueryRoomStateResponse> State(const v1::QueryRoomStateRequest& request);

 private:
  SyncStore& store_;
  ReadFence& fence_;
};

}  // namespace periscope::syncapi
