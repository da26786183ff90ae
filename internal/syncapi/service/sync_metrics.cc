#include "internal/syncapi/service/sync_metrics.h"

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace periscope::syncapi {

struct SyncMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : waiting(prometheus::BuildGauge()
                    .Name("periscope_syncapi_waiting_syncs")
                    .Help("/sync long-polls parked in the notifier, waiting for something new.")
                    .Register(r)
                    .Add({})),
        cancelled(prometheus::BuildCounter()
                      .Name("periscope_syncapi_syncs_cancelled_total")
                      .Help("/sync calls cancelled because their client went away.")
                      .Register(r)
                      .Add({})) {}
  prometheus::Gauge& waiting;
  prometheus::Counter& cancelled;
};

SyncMetrics::SyncMetrics(prometheus::Registry* registry) {
  if (registry != nullptr) families_ = std::make_unique<Families>(*registry);
}

SyncMetrics::~SyncMetrics() = default;

void SyncMetrics::Parked() {
  if (families_) families_->waiting.Increment();
}

void SyncMetrics::Unparked() {
  if (families_) families_->waiting.Decrement();
}

void SyncMetrics::Cancelled() {
  if (families_) families_->cancelled.Increment();
}

}  // namespace periscope::syncapi
