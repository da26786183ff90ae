#include "internal/syncapi/sync/messages_pager.h"

#include "absl/strings/str_cat.h"
#include "internal/syncapi/sync/client_event.h"
#include "internal/syncapi/sync/sync_builder.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {

absl::StatusOr<v1::QueryMessagesResponse> MessagesPager::Page(
    const v1::QueryMessagesRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  const std::string dir = request.dir().empty() ? "b" : request.dir();
  if (dir != "b" && dir != "f") {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam,
                       "dir must be b or f");
  }
  const bool backwards = dir == "b";
  if (request.limit() < 0) {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam,
                       "limit must not be negative");
  }
  const int limit =
      request.limit() == 0 ? kDefaultMessagesLimit : std::min(request.limit(), kMaxMessagesLimit);
  PERISCOPE_ASSIGN_OR_RETURN(RoomMembership membership,
                             store_.MembershipIn(request.room_id(), request.user_id()));
  if (membership.membership != "join") {
    return MatrixError(absl::StatusCode::kPermissionDenied, matrix::errcode::kForbidden,
                       absl::StrCat(request.user_id(), " is not in room ", request.room_id()));
  }
  PERISCOPE_ASSIGN_OR_RETURN(int64_t newest, store_.MaxPosition());
  // No "from": backwards starts at the newest event, forwards at the beginning.
  int64_t from = backwards ? newest : 0;
  if (!request.from().empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(from, ParseSinceToken(request.from()));
  }
  int64_t to = 0;
  if (!request.to().empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(to, ParseSinceToken(request.to()));
  }

  PERISCOPE_ASSIGN_OR_RETURN(std::vector<SyncEvent> events,
                             store_.EventsPage(request.room_id(), from, to, backwards, limit));
  v1::QueryMessagesResponse response;
  response.set_start(MakeSyncToken(from));
  for (const SyncEvent& event : events) {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json json, ClientEvent(event, request.user_id(), ""));
    response.add_chunk_json(json.dump());
  }
  // A full page may have more behind it; a short one reached the end (no "end" token).
  if (static_cast<int>(events.size()) == limit) {
    response.set_end(MakeSyncToken(backwards ? events.back().pos - 1 : events.back().pos));
  }
  return response;
}

}  // namespace periscope::syncapi
