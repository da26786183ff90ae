#include "internal/app/dependency_health.h"

#include "pkg/logging/logging.h"

namespace periscope::app {

DependencyHealth::DependencyHealth(std::vector<Check> checks, Report report, absl::Duration every)
    : checks_(std::move(checks)), report_(std::move(report)) {
  if (every <= absl::ZeroDuration()) return;
  thread_ = std::thread([this, every] {
    do {
      CheckOnce();
    } while (!stop_.WaitForNotificationWithTimeout(every));
  });
}

DependencyHealth::~DependencyHealth() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

bool DependencyHealth::CheckOnce() {
  bool serving = true;
  for (const Check& check : checks_) {
    if (absl::Status s = check(); !s.ok()) {
      serving = false;
      logging::Warn("health.dependency_down", {{"error", s}});
      break;
    }
  }
  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    changed = last_ != static_cast<int>(serving);
    last_ = static_cast<int>(serving);
  }
  if (changed) {
    if (serving) logging::Info("health.serving", {});
    report_(serving);
  }
  return serving;
}

DependencyHealth::Check PostgresCheck(pg::Pool& pool) {
  static constexpr pg::Statement kPing{"health_ping", "SELECT 1"};
  return [&pool] { return pool.Query(kPing).status(); };
}

DependencyHealth::Check NatsCheck(stream::JetStream& js) {
  return [&js] {
    return js.Connected() ? absl::OkStatus() : absl::UnavailableError("NATS is not connected");
  };
}

}  // namespace periscope::app
