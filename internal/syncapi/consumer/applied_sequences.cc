#include "internal/syncapi/consumer/applied_sequences.h"

#include <algorithm>

#include "pkg/logging/logging.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace periscope::syncapi {

AppliedSequences::AppliedSequences(SyncStore& store, prometheus::Registry* registry)
    : store_(store) {
  if (registry != nullptr) {
    gaps_metric_ = &prometheus::BuildCounter()
                        .Name("periscope_syncapi_stream_gaps_total")
                        .Help(
                            "Rooms' output-stream messages that never reached syncapi (a "
                            "room_sequence skipped ahead): lost to retention or upstream.")
                        .Register(*registry)
                        .Add({});
  }
}

void AppliedSequences::Applied(const std::string& room_id, int64_t sequence) {
  if (sequence <= 0) return;
  absl::MutexLock lock(&mu_);
  auto [it, fresh] = applied_.try_emplace(room_id, 0);
  if (!fresh && sequence > it->second + 1) {
    // A message of the room never reached syncapi: dropped by the stream's retention while this
    // consumer was far behind, or lost upstream. Nothing can bring it back; say so loudly.
    ++gaps_;
    if (gaps_metric_ != nullptr) gaps_metric_->Increment();
    logging::Error("syncapi.stream_gap",
                   {{"room_id", room_id}, {"after", it->second}, {"got", sequence}});
  }
  it->second = std::max(it->second, sequence);
}

int64_t AppliedSequences::gaps() const {
  absl::MutexLock lock(&mu_);
  return gaps_;
}

bool AppliedSequences::WaitFor(const std::string& room_id, int64_t sequence,
                               absl::Duration timeout) {
  if (sequence <= 0) return true;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = applied_.find(room_id); it != applied_.end() && it->second >= sequence) {
      return true;
    }
  }
  // Not seen since start (or behind): ask the store once, outside the lock.
  absl::StatusOr<int64_t> stored = store_.AppliedRoomSequence(room_id);
  if (!stored.ok()) return false;
  Applied(room_id, *stored);
  absl::MutexLock lock(&mu_);
  auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = applied_.find(room_id);
    return it != applied_.end() && it->second >= sequence;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

}  // namespace periscope::syncapi
