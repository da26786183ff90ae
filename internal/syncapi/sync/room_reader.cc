#include "internal/syncapi/sync/room_reader.h"

#include "absl/strings/str_cat.h"
#include "internal/syncapi/sync/client_event.h"
#include "internal/syncapi/sync/visibility.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {

absl::StatusOr<v1::QueryRoomEventResponse> RoomReader::Event(
    const v1::QueryRoomEventRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateEventId(request.event_id()));
  fence_.CatchUp(request.room_id());
  PERISCOPE_ASSIGN_OR_RETURN(RoomVisibility view,
                             ReadableBy(store_, request.room_id(), request.user_id()));
  PERISCOPE_ASSIGN_OR_RETURN(SyncEvent event,
                             VisibleEvent(store_, view, request.room_id(), request.event_id()));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json json, ClientEvent(event, request.user_id(), ""));
  v1::QueryRoomEventResponse response;
  response.set_event_json(json.dump());
  return response;
}

absl::StatusOr<v1::QueryRoomStateResponse> RoomReader::State(
    const v1::QueryRoomStateRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  fence_.CatchUp(request.room_id());
  PERISCOPE_ASSIGN_OR_RETURN(RoomVisibility view,
                             ReadableBy(store_, request.room_id(), request.user_id()));
  using matrix::MembershipState;
  const MembershipState now = view.MembershipNow();
  std::vector<SyncEvent> state;
  if (now == MembershipState::kJoin || view.Now() == matrix::HistoryVisibility::kWorldReadable) {
    PERISCOPE_ASSIGN_OR_RETURN(state, store_.CurrentState(request.room_id()));
  } else if ((now == MembershipState::kLeave || now == MembershipState::kBan) &&
             view.EverJoined()) {
    // Up to and including their own leave: nothing of what changed after.
    PERISCOPE_ASSIGN_OR_RETURN(state, store_.StateAt(request.room_id(), view.MembershipNowPos()));
  } else {
    return MatrixError(absl::StatusCode::kPermissionDenied, matrix::errcode::kForbidden,
                       absl::StrCat(request.user_id(), " is not in room ", request.room_id()));
  }
  v1::QueryRoomStateResponse response;
  for (const SyncEvent& e : state) {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json json, ClientEvent(e, request.user_id(), ""));
    response.add_state_json(json.dump());
  }
  return response;
}

}  // namespace periscope::syncapi
