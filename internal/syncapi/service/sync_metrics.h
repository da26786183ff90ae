#pragma once
// Prometheus metrics of /sync long-polls in syncapi (null registry: nothing is recorded):
//   periscope_syncapi_waiting_syncs          gauge, syncs parked in the notifier now
//   periscope_syncapi_syncs_cancelled_total  counter, syncs whose client went away (the gateway
//                                            cancels the call when its HTTP client hangs up)
//   periscope_syncapi_sync_build_seconds     histogram, time to build one /sync answer (the
//                                            work of a sync, without its long-poll wait)

#include <memory>

namespace prometheus {
class Registry;
}

namespace periscope::syncapi {

class SyncMetrics {
 public:
  explicit SyncMetrics(prometheus::Registry* registry);
  ~SyncMetrics();

  void Parked();
  void Unparked();
  void Cancelled();
  void Built(double seconds);

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

}  // namespace periscope::syncapi
