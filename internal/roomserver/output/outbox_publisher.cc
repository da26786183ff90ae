#include "internal/roomserver/output/outbox_publisher.h"

#include "absl/strings/str_cat.h"
#include "pkg/logging/logging.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

OutboxPublisher::~OutboxPublisher() {
  if (retry_thread_) {
    stop_.Notify();
    retry_thread_->join();
  }
}

absl::Status OutboxPublisher::PublishPending() {
  absl::MutexLock lock(&run_mu_);
  constexpr int kBatch = 256;
  while (true) {
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<OutboxEntry> pending, store_.PendingOutput(kBatch));
    if (pending.empty()) return absl::OkStatus();
    for (const OutboxEntry& entry : pending) {
      absl::StatusOr<stream::PublishAck> ack = js_.Publish(
          absl::StrCat(subject_prefix_, ".", entry.subject_suffix), entry.payload, entry.msg_id);
      if (!ack.ok()) return ack.status();
      // Forget each message once acknowledged, so a failure later in the batch resends nothing
      // that already went out.
      PERISCOPE_RETURN_IF_ERROR(store_.MarkOutputPublished(entry.position));
    }
    if (pending.size() < kBatch) return absl::OkStatus();
  }
}

void OutboxPublisher::StartRetrying(absl::Duration interval) {
  retry_thread_ = std::make_unique<std::thread>([this, interval] {
    while (!stop_.WaitForNotificationWithTimeout(interval)) {
      if (absl::Status s = PublishPending(); !s.ok()) {
        logging::Warn("roomserver.outbox_retry_failed", {{"error", s}});
      }
    }
  });
}

}  // namespace periscope::roomserver
