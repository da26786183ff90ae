#include "internal/roomserver/output/outbox_relay.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/logging/logging.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

OutboxRelay::~OutboxRelay() {
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_ = true;
  }
  if (thread_) thread_->join();
}

void OutboxRelay::Wake() {
  absl::MutexLock lock(&wake_mu_);
  woken_ = true;
}

absl::Status OutboxRelay::PublishPending() {
  absl::MutexLock lock(&run_mu_);
  constexpr int kBatch = 256;
  while (true) {
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<OutboxEntry> pending, store_.PendingOutput(kBatch));
    if (pending.empty()) return absl::OkStatus();
    // A long drain reports its progress, and stops between batches when the relay is stopping
    // (what is left stays in the outbox for the next start).
    ReportDepth();
    {
      absl::MutexLock wake_lock(&wake_mu_);
      if (stopping_) return absl::OkStatus();
    }
    std::vector<int64_t> published;
    absl::Status failed;
    for (const OutboxEntry& entry : pending) {
      absl::StatusOr<stream::PublishAck> ack = publisher_.Publish(
          absl::StrCat(subject_prefix_, ".", entry.subject_suffix), entry.payload, entry.msg_id);
      if (!ack.ok()) {
        failed = ack.status();
        break;
      }
      published.push_back(entry.position);
    }
    // Forget exactly what went out (also when a later publish failed, so it is not resent).
    PERISCOPE_RETURN_IF_ERROR(store_.MarkOutputPublished(published));
    PERISCOPE_RETURN_IF_ERROR(failed);
    if (pending.size() < kBatch) return absl::OkStatus();
  }
}

void OutboxRelay::ReportDepth() {
  // Wall time: the gauge's pace only, nothing is decided by it.
  if (!on_depth_ || absl::Now() - depth_reported_ < depth_interval_) return;
  depth_reported_ = absl::Now();
  if (absl::StatusOr<int64_t> depth = store_.PendingCount(); depth.ok()) on_depth_(*depth);
}

void OutboxRelay::Start(absl::Duration retry_interval,
                        std::function<void(int64_t depth)> on_depth) {
  {
    absl::MutexLock lock(&run_mu_);
    on_depth_ = std::move(on_depth);
    depth_interval_ = retry_interval;
  }
  thread_ = std::make_unique<std::thread>([this, retry_interval] {
    bool failed = false;
    while (true) {
      {
        absl::MutexLock lock(&wake_mu_);
        // After a failure, wakes wait for the interval: an outage is not tried once per send.
        auto ready = [this, &failed]() ABSL_SHARED_LOCKS_REQUIRED(wake_mu_) {
          return stopping_ || (woken_ && !failed);
        };
        wake_mu_.AwaitWithTimeout(absl::Condition(&ready), retry_interval);
        if (stopping_) return;
        woken_ = false;
      }
      absl::Status s = PublishPending();
      failed = !s.ok();
      if (failed) logging::Warn("roomserver.publish_deferred", {{"error", s}});
      absl::MutexLock lock(&run_mu_);
      ReportDepth();
    }
  });
}

}  // namespace periscope::roomserver
