#include "internal/syncapi/peeks/peek_expirer.h"

#include "pkg/logging/logging.h"

namespace periscope::syncapi {

PeekExpirer::PeekExpirer(SyncStore& store, PeekRetirer& retirer, PeekMetrics& metrics,
                         const Clock& clock, absl::Duration check_every)
    : store_(store),
      retirer_(retirer),
      metrics_(metrics),
      clock_(clock),
      check_every_(check_every) {
  thread_ = std::thread([this] {
    // Real time between passes; whether a peek lapsed is decided on the injected clock.
    while (!stop_.WaitForNotificationWithTimeout(check_every_)) RunOnce();
  });
}

PeekExpirer::~PeekExpirer() {
  stop_.Notify();
  thread_.join();
}

int PeekExpirer::RunOnce() {
  if (absl::StatusOr<int64_t> live = store_.LivePeekCount(); live.ok()) metrics_.SetActive(*live);
  absl::StatusOr<std::vector<std::array<std::string, 3>>> lapsed =
      store_.LapsedPeeks(absl::ToUnixMillis(clock_.Now()));
  if (!lapsed.ok()) {
    logging::Warn("syncapi.peek_expiry_failed", {{"error", lapsed.status()}});
    return 0;
  }
  int retired = 0;
  for (const auto& [room_id, user_id, device_id] : *lapsed) {
    absl::Status s = retirer_.RetireExpired(room_id, user_id, device_id);
    if (absl::IsFailedPrecondition(s)) {
      // The roomserver has no such peek (it ended there already): end ours too.
      absl::Status ended =
          store_.EndPeek(room_id, user_id, device_id, "expired", /*room_seq=*/0).status();
      if (!ended.ok()) logging::Warn("syncapi.peek_expiry_failed", {{"error", ended}});
      continue;
    }
    if (!s.ok()) {
      // Retried on the next pass.
      logging::Warn("syncapi.peek_expiry_failed", {{"room_id", room_id}, {"error", s}});
      continue;
    }
    ++retired;
    metrics_.Expired();
    logging::Info("syncapi.peek_expired",
                  {{"room_id", room_id}, {"user_id", user_id}, {"device_id", device_id}});
  }
  return retired;
}

}  // namespace periscope::syncapi
