#include "pkg/grpc/health_service.h"

#include <optional>

#include "absl/time/time.h"

namespace periscope::grpcutil {

using grpc::health::v1::HealthCheckResponse;

void HealthService::SetStatus(const std::string& service, ServingStatus status) {
  absl::MutexLock lock(&mu_);
  if (shutdown_) status = HealthCheckResponse::NOT_SERVING;
  statuses_[service] = status;
  changed_.SignalAll();
}

void HealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
  for (auto& [name, status] : statuses_) status = HealthCheckResponse::NOT_SERVING;
  changed_.SignalAll();
}

grpc::Status HealthService::Check(grpc::ServerContext*,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  absl::MutexLock lock(&mu_);
  auto it = statuses_.find(request->service());
  if (it == statuses_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
  response->set_status(it->second);
  return grpc::Status::OK;
}

grpc::Status HealthService::Watch(grpc::ServerContext* context,
                                  const grpc::health::v1::HealthCheckRequest* request,
                                  grpc::ServerWriter<HealthCheckResponse>* writer) {
  // Sends the status now and on every change, until the client goes away or the server stops.
  // Watchers are rare (health-checking load balancers), so a thread each is acceptable.
  std::optional<ServingStatus> last;
  while (!context->IsCancelled()) {
    ServingStatus now;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      auto it = statuses_.find(request->service());
      now = it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second;
      stopping = shutdown_;
      if (last == now && !stopping) {
        // Wake on a change or a shutdown, or after a while to notice a cancelled call.
        changed_.WaitWithTimeout(&mu_, absl::Milliseconds(500));
        continue;
      }
    }
    HealthCheckResponse response;
    response.set_status(now);
    if (!writer->Write(response)) break;
    last = now;
    if (stopping) break;
  }
  return grpc::Status::OK;
}

}  // namespace periscope::grpcutil
