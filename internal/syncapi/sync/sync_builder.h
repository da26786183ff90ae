#pragma once
// Computes a /sync response from syncapi's store: for an initial sync, every joined room's state
// and latest timeline and every pending invite; for an incremental sync from "s<pos>", the rooms
// with something new for the user since pos — new timeline events (limited, with the state that
// changed in the gap), rooms newly joined (with their full state), new invites, and rooms the user
// left or was removed from (with the timeline up to that point).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "internal/syncapi/storage/sync_store.h"
#include "internal/syncapi/sync/event_filter.h"
#include "periscope/syncapi/v1/syncapi.pb.h"

namespace periscope::syncapi {

// The parts of a filter /sync uses.
struct SyncFilter {
  int timeline_limit = 10;
  EventFilter timeline;
  EventFilter state;
};

// Parses an inline JSON filter (400 M_INVALID_PARAM if it does not parse or has bad values).
absl::StatusOr<SyncFilter> ParseSyncFilter(absl::string_view filter_json);

// "s<pos>" (400 M_INVALID_PARAM for anything else); an empty token is position 0 (initial).
absl::StatusOr<int64_t> ParseSinceToken(absl::string_view token);
std::string MakeSyncToken(int64_t pos);

struct SyncQuery {
  std::string user_id;
  std::string device_id;
  // 0 for an initial sync.
  int64_t since = 0;
  bool initial = true;
  bool full_state = false;
  SyncFilter filter;
};

class SyncBuilder {
 public:
  explicit SyncBuilder(SyncStore& store) : store_(store) {}

  // The response for `query` up to the store's newest position. `*empty` tells whether it holds
  // nothing for the user (a long-poll keeps waiting then).
  absl::StatusOr<v1::SyncResponse> Build(const SyncQuery& query, bool* empty);

 private:
  SyncStore& store_;
};

}  // namespace periscope::syncapi
