#include "internal/roomserver/output/outbox_relay.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/logging/logging.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

OutboxRelay::~OutboxRelay() {
  if (retry_thread_) {
    stop_.Notify();
    retry_thread_->join();
  }
}

absl::Status OutboxRelay::PublishPending() {
  absl::MutexLock lock(&run_mu_);
  constexpr int kBatch = 256;
  while (true) {
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<OutboxEntry> pending, store_.PendingOutput(kBatch));
    if (pending.empty()) return absl::OkStatus();
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

void OutboxRelay::StartRetrying(absl::Duration interval) {
  retry_thread_ = std::make_unique<std::thread>([this, interval] {
    while (!stop_.WaitForNotificationWithTimeout(interval)) {
      if (absl::Status s = PublishPending(); !s.ok()) {
        logging::Warn("roomserver.outbox_retry_failed", {{"error", s}});
      }
    }
  });
}

}  // namespace periscope::roomserver
