#include "internal/syncapi/sync/messages_pager.h"

#include "absl/strings/str_cat.h"
#include "internal/syncapi/sync/client_event.h"
#include "internal/syncapi/sync/sync_builder.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {

absl::StatusOr<v1::QueryContextResponse> MessagesPager::Context(
    const v1::QueryContextRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateEventId(request.event_id()));
  if (request.limit() < 0) {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam,
                       "limit must not be negative");
  }
  fence_.CatchUp(request.room_id());
  PERISCOPE_ASSIGN_OR_RETURN(RoomVisibility view,
                             ReadableBy(store_, request.room_id(), request.user_id()));
  PERISCOPE_ASSIGN_OR_RETURN(SyncEvent event,
                             VisibleEvent(store_, view, request.room_id(), request.event_id()));
  const int limit =
      request.limit() == 0 ? kDefaultMessagesLimit : std::min(request.limit(), kMaxMessagesLimit);
  const int before_limit = limit / 2;
  const int after_limit = limit - before_limit;
  PERISCOPE_ASSIGN_OR_RETURN(
      std::vector<SyncEvent> before,
      store_.EventsPage(request.room_id(), event.pos - 1, 0, /*backwards=*/true, before_limit));
  PERISCOPE_ASSIGN_OR_RETURN(
      std::vector<SyncEvent> after,
      store_.EventsPage(request.room_id(), event.pos, 0, /*backwards=*/false, after_limit));
  // The state at the event, not now: a member who left sees nothing of what changed after. Only
  // for those who were once in the room (or anyone, while it is world_readable): someone who
  // rejected an invite sees their own membership event, not the room's state.
  std::vector<SyncEvent> state;
  if (view.EverJoined() || view.Now() == matrix::HistoryVisibility::kWorldReadable) {
    PERISCOPE_ASSIGN_OR_RETURN(state, store_.StateAt(request.room_id(), event.pos));
  }
  // Tokens follow what was read, so paging on from them skips nothing.
  const std::string start = MakeSyncToken(before.empty() ? event.pos - 1 : before.back().pos - 1);
  const std::string end = MakeSyncToken(after.empty() ? event.pos : after.back().pos);
  before = view.Filter(std::move(before));
  after = view.Filter(std::move(after));

  v1::QueryContextResponse response;
  auto client = [&](const SyncEvent& e) -> absl::StatusOr<std::string> {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json json, ClientEvent(e, request.user_id(), ""));
    return json.dump();
  };
  PERISCOPE_ASSIGN_OR_RETURN(*response.mutable_event_json(), client(event));
  for (const SyncEvent& e : before) {
    PERISCOPE_ASSIGN_OR_RETURN(*response.add_events_before_json(), client(e));
  }
  for (const SyncEvent& e : after) {
    PERISCOPE_ASSIGN_OR_RETURN(*response.add_events_after_json(), client(e));
  }
  for (const SyncEvent& e : state) {
    PERISCOPE_ASSIGN_OR_RETURN(*response.add_state_json(), client(e));
  }
  response.set_start(start);
  response.set_end(end);
  return response;
}

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
  fence_.CatchUp(request.room_id());
  PERISCOPE_ASSIGN_OR_RETURN(RoomVisibility view,
                             ReadableBy(store_, request.room_id(), request.user_id()));
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
  for (const SyncEvent& event : view.Filter(events)) {
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
