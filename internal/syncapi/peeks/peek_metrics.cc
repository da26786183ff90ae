#include "internal/syncapi/peeks/peek_metrics.h"

#include <string>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace periscope::syncapi {

struct PeekMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : active(prometheus::BuildGauge()
                   .Name("periscope_syncapi_active_peeks")
                   .Help("Live local peeks (devices looking into rooms without joining).")
                   .Register(r)
                   .Add({})),
        started(prometheus::BuildCounter()
                    .Name("periscope_syncapi_peeks_started_total")
                    .Help("Local peeks started (renewals not counted).")
                    .Register(r)
                    .Add({})),
        ended(prometheus::BuildCounter()
                  .Name("periscope_syncapi_peeks_ended_total")
                  .Help("Local peeks ended, by reason.")
                  .Register(r)),
        expiries(prometheus::BuildCounter()
                     .Name("periscope_syncapi_peek_expiries_total")
                     .Help("Peeks retired because their device stopped looking.")
                     .Register(r)
                     .Add({})),
        renewals(prometheus::BuildCounter()
                     .Name("periscope_syncapi_peek_renewals_total")
                     .Help("Devices whose live peeks a /sync renewed.")
                     .Register(r)
                     .Add({})),
        wakeups(prometheus::BuildCounter()
                    .Name("periscope_syncapi_peek_wakeups_total")
                    .Help("Users' waiting syncs woken for a peek (new peek or peeked-room event).")
                    .Register(r)
                    .Add({})) {}
  prometheus::Gauge& active;
  prometheus::Counter& started;
  prometheus::Family<prometheus::Counter>& ended;
  prometheus::Counter& expiries;
  prometheus::Counter& renewals;
  prometheus::Counter& wakeups;
};

PeekMetrics::PeekMetrics(prometheus::Registry* registry) {
  if (registry != nullptr) families_ = std::make_unique<Families>(*registry);
}

PeekMetrics::~PeekMetrics() = default;

void PeekMetrics::SetActive(int64_t live_peeks) {
  if (families_) families_->active.Set(static_cast<double>(live_peeks));
}

void PeekMetrics::Started() {
  if (families_) families_->started.Increment();
}

void PeekMetrics::Ended(absl::string_view reason) {
  if (families_) families_->ended.Add({{"reason", std::string(reason)}}).Increment();
}

void PeekMetrics::Expired() {
  if (families_) families_->expiries.Increment();
}

void PeekMetrics::Renewed() {
  if (families_) families_->renewals.Increment();
}

void PeekMetrics::WokenForPeeks(int64_t waiters) {
  if (families_ && waiters > 0) families_->wakeups.Increment(static_cast<double>(waiters));
}

}  // namespace periscope::syncapi
