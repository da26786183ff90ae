#pragma once
// Serves a Prometheus registry at http://<listen>/metrics (prometheus-cpp's civetweb exposer).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace periscope::metrics {

class MetricsServer {
 public:
  // Binds `host:port` (port 0: any free port) and serves `registry` at /metrics.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& host, int port, std::shared_ptr<prometheus::Registry> registry);
  ~MetricsServer();

  // The bound port.
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  int port_ = 0;
};

}  // namespace periscope::metrics
