#pragma once
// The gRPC server every Periscope binary uses: server reflection, the health service, metrics
// interceptors, and a graceful shutdown.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/server.h"
#include "pkg/grpc/health_service.h"
#include "prometheus/registry.h"

namespace periscope::grpcutil {

struct GrpcServerOptions {
  // host:port; port 0 picks a free port (see GrpcServer::port()).
  std::string listen_address;
  // The services to serve (not owned; must outlive the server).
  std::vector<grpc::Service*> services;
  // Names reported SERVING by the health service once started ("" is always added).
  std::vector<std::string> health_service_names;
  // Where the request metrics go (may be null: no metrics).
  prometheus::Registry* registry = nullptr;
  // Largest message accepted.
  int max_message_bytes = 16 << 20;
  // The server's ResourceQuota: memory for calls in flight (buffers, arenas) and threads for
  // synchronous handlers. Past them gRPC refuses new work (RESOURCE_EXHAUSTED) instead of
  // growing until the process is killed.
  int64_t memory_quota_bytes = int64_t{512} << 20;
  int max_threads = 256;
};

class GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(GrpcServerOptions options);
  ~GrpcServer();

  int port() const { return port_; }
  HealthService& health() { return health_; }

  // A channel to this server that never leaves the process (the monolith's gateway uses it), with
  // the same services and server interceptors as remote callers see.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Reports NOT_SERVING, stops accepting calls, waits up to `grace` for running calls, then
  // cancels what remains.
  void Shutdown(absl::Duration grace);

 private:
  GrpcServer() = default;
  HealthService health_;
  std::unique_ptr<grpc::Server> server_;
  prometheus::Registry* registry_ = nullptr;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace periscope::grpcutil
