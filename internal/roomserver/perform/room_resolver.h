#pragma once
// Turns what a client names a room by (a room id, or a local alias) into the room id.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "internal/roomserver/storage/room_store.h"

namespace periscope::roomserver {

// The room id for an id or a local alias: 400 M_INVALID_PARAM for neither, 404 M_NOT_FOUND for an
// unknown alias. A room id is returned as is, whether or not the room exists.
absl::StatusOr<std::string> ResolveRoomIdOrAlias(RoomStore& store,
                                                 absl::string_view room_id_or_alias);

}  // namespace periscope::roomserver
