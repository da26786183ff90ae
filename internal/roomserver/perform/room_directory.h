#pragma once
// The room directory: local aliases (PUT/GET/DELETE /directory/room/{alias}), a room's listing in
// the public directory (/directory/list/room/{roomId}) and the listing itself (/publicRooms).
//
// Who may do what: anyone may create an alias on this server for an existing room; an alias is
// deleted by its creator or by a member who may set the room's m.room.canonical_alias; a room is
// listed or unlisted by a member who may set m.room.canonical_alias.

#include "absl/status/statusor.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::roomserver {

class RoomDirectory {
 public:
  RoomDirectory(RoomStore& store, std::string server_name)
      : store_(store), server_name_(std::move(server_name)) {}

  absl::Status SetAlias(const v1::PerformSetAliasRequest& request);
  absl::Status RemoveAlias(const v1::PerformRemoveAliasRequest& request);
  absl::StatusOr<v1::QueryAliasResponse> QueryAlias(const v1::QueryAliasRequest& request);
  absl::Status SetVisibility(const v1::PerformSetVisibilityRequest& request);
  absl::StatusOr<v1::QueryVisibilityResponse> QueryVisibility(
      const v1::QueryVisibilityRequest& request);
  absl::StatusOr<v1::QueryPublicRoomsResponse> PublicRooms(
      const v1::QueryPublicRoomsRequest& request);

 private:
  // OK if `user_id` is joined to `room_id` with the power to set m.room.canonical_alias.
  absl::Status CheckMayEditDirectory(absl::string_view user_id, absl::string_view room_id);
  // INVALID_ARGUMENT unless `alias` is a valid alias on this server.
  absl::Status CheckLocalAlias(absl::string_view alias);

  RoomStore& store_;
  std::string server_name_;
};

}  // namespace periscope::roomserver
