#include "internal/syncapi/service/sync_metrics.h"

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
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
                      .Add({})),
        build(prometheus::BuildHistogram()
                  .Name("periscope_syncapi_sync_build_seconds")
                  .Help("Time to build one /sync answer, without the long-poll wait.")
                  .Register(r)
                  .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005,
                                                                   0.01, 0.025, 0.05, 0.1, 0.25,
                                                                   0.5, 1, 2.5})) {}
  prometheus::Gauge& waiting;
  prometheus::Counter& cancelled;
  prometheus::Histogram& build;
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

void SyncMetrics::Built(double seconds) {
  if (families_) families_->build.Observe(seconds);
}

}  // namespace periscope::syncapi
