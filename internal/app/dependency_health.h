#pragma once
// Keeps a process's gRPC health true to what it depends on: every `every`, it runs the checks
// (PostgreSQL answers `SELECT 1`, the NATS connection is up) and reports NOT_SERVING while any
// fails, SERVING again once all pass. A Kubernetes readiness probe on the component's service
// then takes a pod that lost its database out of rotation instead of letting it answer 503s.

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "pkg/pg/pg.h"
#include "pkg/stream/jetstream.h"

namespace periscope::app {

class DependencyHealth {
 public:
  using Check = std::function<absl::Status()>;
  // Called with the new state whenever it changes (and once at the first check).
  using Report = std::function<void(bool serving)>;

  // Checks on a thread of its own every `every` (if positive), the first time at once.
  DependencyHealth(std::vector<Check> checks, Report report, absl::Duration every);
  ~DependencyHealth();

  // One round of checks; returns whether all passed (and reports a change).
  bool CheckOnce();

 private:
  const std::vector<Check> checks_;
  const Report report_;
  absl::Mutex mu_;
  int last_ ABSL_GUARDED_BY(mu_) = -1;  // -1 before the first check
  absl::Notification stop_;
  std::thread thread_;
};

// The checks for the dependencies a component has.
DependencyHealth::Check PostgresCheck(pg::Pool& pool);
DependencyHealth::Check NatsCheck(stream::JetStream& js);

}  // namespace periscope::app
