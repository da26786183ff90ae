#pragma once
// Prometheus metrics of local peeking as syncapi sees it (null registry: nothing is recorded):
//   periscope_syncapi_active_peeks            gauge, live peeks (refreshed by the expirer)
//   periscope_syncapi_peeks_started_total     counter
//   periscope_syncapi_peeks_ended_total       counter {reason: client|expired|joined|not_peekable}
//   periscope_syncapi_peek_expiries_total     counter, peeks the expirer retired
//   periscope_syncapi_peek_renewals_total     counter, devices whose live peeks a /sync renewed (at
//                                             most once per quarter lifetime per device)
//   periscope_syncapi_peek_wakeups_total      counter, waiting syncs woken for a peek (a new peek
//                                             or an event in a peeked room)
// Request rates and latencies of peek, unpeek and sync are the gateway's
// periscope_gateway_http_request_duration_seconds{route=...} and the components'
// grpc_server_handling_seconds{grpc_method="PerformPeek"|"PerformUnpeek"|"Sync"}.

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"

namespace prometheus {
class Registry;
}

namespace periscope::syncapi {

class PeekMetrics {
 public:
  explicit PeekMetrics(prometheus::Registry* registry);
  ~PeekMetrics();

  void SetActive(int64_t live_peeks);
  void Started();
  void Ended(absl::string_view reason);
  void Expired();
  void Renewed();
  void WokenForPeeks(int64_t waiters);

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

}  // namespace periscope::syncapi
