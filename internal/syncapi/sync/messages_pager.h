#pragma once
// GET /rooms/{roomId}/messages and /context/{eventId}: pages through syncapi's copy of a room's
// timeline. Tokens are the
// same "s<pos>" positions /sync hands out (a timeline's prev_batch is where paging back starts).
// Only members who are joined may page (history visibility for others arrives with peeking, issue
// 5); others get 403 M_FORBIDDEN whether or not the room exists.

#include "absl/status/statusor.h"
#include "internal/syncapi/storage/sync_store.h"
#include "periscope/syncapi/v1/syncapi.pb.h"

namespace periscope::syncapi {

inline constexpr int kDefaultMessagesLimit = 10;
inline constexpr int kMaxMessagesLimit = 1000;

class MessagesPager {
 public:
  explicit MessagesPager(SyncStore& store) : store_(store) {}

  absl::StatusOr<v1::QueryMessagesResponse> Page(const v1::QueryMessagesRequest& request);
  // The event, up to limit/2 events before it and the rest after it, and the current state;
  // 404 M_NOT_FOUND if the room has no such event.
  absl::StatusOr<v1::QueryContextResponse> Context(const v1::QueryContextRequest& request);

 private:
  // 403 unless the user is joined to the room.
  absl::Status CheckJoined(absl::string_view room_id, absl::string_view user_id);

  SyncStore& store_;
};

}  // namespace periscope::syncapi
