#pragma once
// GET /rooms/{roomId}/messages and /context/{eventId}: pages through syncapi's copy of a room's
// timeline. Tokens are the
// same "s<pos>" positions /sync hands out (a timeline's prev_batch is where paging back starts).
// Every page holds only what history visibility lets the user see (sync/visibility.h); someone who
// never had a membership in the room may read it only while it is world_readable, and otherwise
// gets 403 M_FORBIDDEN whether or not the room exists.

#include "absl/status/statusor.h"
#include "internal/syncapi/storage/sync_store.h"
#include "internal/syncapi/sync/read_fence.h"
#include "internal/syncapi/sync/visibility.h"
#include "periscope/syncapi/v1/syncapi.pb.h"

namespace periscope::syncapi {

inline constexpr int kDefaultMessagesLimit = 10;
inline constexpr int kMaxMessagesLimit = 1000;

class MessagesPager {
 public:
  // Each read first catches up with the room's committed writes (`fence`).
  MessagesPager(SyncStore& store, ReadFence& fence) : store_(store), fence_(fence) {}

  absl::StatusOr<v1::QueryMessagesResponse> Page(const v1::QueryMessagesRequest& request);
  // The event, up to limit/2 events before it and the rest after it, and the current state;
  // 404 M_NOT_FOUND if the room has no such event.
  absl::StatusOr<v1::QueryContextResponse> Context(const v1::QueryContextRequest& request);

 private:
  SyncStore& store_;
  ReadFence& fence_;
};

}  // namespace periscope::syncapi
