#include "internal/gateway/http/cancellation.h"

#include <utility>

namespace periscope::gateway {

void Cancellation::OnCancel(std::function<void()> on_cancel) {
  std::function<void()> first;
  {
    absl::MutexLock lock(&mu_);
    if (!cancelled_) {
      on_cancel_ = std::exchange(on_cancel, nullptr);
      first = std::exchange(on_first_registration_, nullptr);
    }
  }
  if (first) first();          // the session starts watching the connection
  if (on_cancel) on_cancel();  // already cancelled: at once
}

void Cancellation::Cancel() {
  std::function<void()> run;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    run = std::exchange(on_cancel_, nullptr);
  }
  if (run) run();
}

bool Cancellation::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

}  // namespace periscope::gateway
