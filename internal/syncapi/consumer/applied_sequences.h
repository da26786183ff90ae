#pragma once
// How far syncapi has applied each room's part of the roomserver output stream (the last
// room_sequence it handled), in memory, with a way to wait for a room to reach a sequence. The
// output consumer advances it after each message; reads that must see every acknowledged write
// wait on it (sync/read_fence.h). A room not seen since start is read from the store.

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "internal/syncapi/storage/sync_store.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace periscope::syncapi {

class AppliedSequences {
 public:
  // `registry` (may be null) gets periscope_syncapi_stream_gaps_total.
  explicit AppliedSequences(SyncStore& store, prometheus::Registry* registry = nullptr);

  // The consumer handled (applied or found stale) the room's message `sequence`.
  void Applied(const std::string& room_id, int64_t sequence);

  // Waits until the room has reached `sequence`, for at most `timeout`. False on timeout, or if
  // the store cannot say where the room is.
  bool WaitFor(const std::string& room_id, int64_t sequence, absl::Duration timeout);

  // Rooms' messages seen to be missing (a sequence that skipped ahead), logged as they happen.
  int64_t gaps() const;

 private:
  SyncStore& store_;
  prometheus::Counter* gaps_metric_ = nullptr;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int64_t> applied_ ABSL_GUARDED_BY(mu_);
  int64_t gaps_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace periscope::syncapi
