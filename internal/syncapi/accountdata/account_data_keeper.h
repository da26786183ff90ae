#pragma once
// Account data (spec "Client Config"): per-user JSON objects, global or per room, that clients
// store and read back and that /sync delivers when they change. syncapi keeps them because /sync
// is their reader: a put takes a position in the sync stream and wakes the user's waiting syncs
// directly, with no stream hop in between.

#include "absl/status/statusor.h"
#include "internal/syncapi/notifier/notifier.h"
#include "internal/syncapi/storage/sync_store.h"
#include "periscope/syncapi/v1/syncapi.pb.h"

namespace periscope::syncapi {

// The largest content stored, in bytes of its JSON encoding (the spec sets no limit; this keeps a
// client from parking megabytes in every /sync).
inline constexpr size_t kMaxAccountDataBytes = 65536;

class AccountDataKeeper {
 public:
  AccountDataKeeper(SyncStore& store, Notifier& notifier) : store_(store), notifier_(notifier) {}

  // Validates (400 M_INVALID_PARAM for bad ids or types, M_BAD_JSON/M_NOT_JSON for content that
  // is not a JSON object, 413 M_TOO_LARGE), stores, and wakes the user's syncs.
  absl::Status Put(const v1::PutAccountDataRequest& request);
  // Sets or removes one tag of the room's m.tag entry ({"tags": {tag: content}}) in one
  // read-modify-write, and wakes the user's syncs.
  absl::Status Tag(const v1::PerformTagRequest& request);
  // 404 M_NOT_FOUND if nothing is stored under the type.
  absl::StatusOr<v1::QueryAccountDataResponse> Query(const v1::QueryAccountDataRequest& request);

 private:
  SyncStore& store_;
  Notifier& notifier_;
};

}  // namespace periscope::syncapi
