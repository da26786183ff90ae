#pragma once
// One /sync from request to answer, whatever carries it: the gRPC service (service/sync_call.h)
// or, in the monolith, the gateway calling in-process. It validates the request, renews the
// device's peeks, builds the response and, if there is nothing new, parks in the Notifier without
// a thread until something relevant happens, the deadline passes or the caller cancels (its
// client went away). It answers exactly once.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "internal/syncapi/notifier/notifier.h"
#include "internal/syncapi/peeks/peek_renewer.h"
#include "internal/syncapi/service/sync_metrics.h"
#include "internal/syncapi/sync/sync_builder.h"
#include "periscope/syncapi/v1/syncapi.pb.h"
#include "pkg/clock/clock.h"

namespace periscope::syncapi {

// The longest a /sync waits, whatever timeout the client asks for.
inline constexpr absl::Duration kMaxSyncWait = absl::Minutes(2);

class SyncRunner {
 public:
  using Done = std::function<void(absl::StatusOr<v1::SyncResponse>)>;

  SyncRunner(SyncBuilder& builder, Notifier& notifier, SyncMetrics& metrics, PeekRenewer& renewer,
             const Clock& clock)
      : builder_(builder),
        notifier_(notifier),
        metrics_(metrics),
        renewer_(renewer),
        clock_(clock) {}

  // Starts a /sync; `done` runs once, possibly before Run returns. The returned function cancels
  // the sync (done then gets CANCELLED unless it already ran); it may be called from any thread,
  // at any time, also after the end.
  std::function<void()> Run(const v1::SyncRequest& request, Done done);

 private:
  SyncBuilder& builder_;
  Notifier& notifier_;
  SyncMetrics& metrics_;
  PeekRenewer& renewer_;
  const Clock& clock_;
};

}  // namespace periscope::syncapi
