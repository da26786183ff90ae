#include "pkg/metrics/metrics_server.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"

namespace periscope::metrics {

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& host, int port, std::shared_ptr<prometheus::Registry> registry) {
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  std::string address = absl::StrCat(host, ":", port);
  try {
    // civetweb's listening_ports option: "host:port"; one worker thread is plenty for scrapes.
    server->exposer_ = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address, ": ", e.what()));
  }
  server->registry_ = std::move(registry);
  server->exposer_->RegisterCollectable(server->registry_);
  std::vector<int> ports = server->exposer_->GetListeningPorts();
  server->port_ = ports.empty() ? port : ports.front();
  return server;
}

MetricsServer::~MetricsServer() = default;

}  // namespace periscope::metrics
