#pragma once
// Prometheus metrics of /sync long-polls in syncapi (null registry: nothing is recorded):
//   periscope_syncapi_waiting_syncs          gauge, syncs parked in the notifier now
//   periscope_syncapi_syncs_cancelled_total  counter, syncs whose client went away (the gateway
//                                            cancels the call when its HTTP client hangs up)

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

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

}  // namespace periscope::syncapi
