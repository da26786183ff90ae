#pragma once
// The Matrix HTTP gateway: the client API and the federation API, translated into calls on the
// components' client interfaces. It owns nothing persistent.

#include <memory>

#include "absl/status/statusor.h"
#include "pkg/clock/clock.h"
#include "pkg/config/config.h"

namespace prometheus {
class Registry;
}

namespace periscope::stream {
class JetStream;
}

namespace periscope::gateway {

class UserApiClient;
class FederationApiClient;
class FederationSenderClient;
class RoomserverClient;
class SyncApiClient;

// The components the gateway calls (not owned; must outlive the gateway).
struct GatewayUpstreams {
  UserApiClient* userapi = nullptr;
  // Serves the room endpoints (createRoom, send, state, membership) when set.
  RoomserverClient* roomserver = nullptr;
  // Serves GET /sync when set.
  SyncApiClient* syncapi = nullptr;
  // Serves the federation API when set.
  FederationApiClient* federationapi = nullptr;
  // Answers client requests about other servers (remote profiles) when set.
  FederationSenderClient* federationsender = nullptr;
  // If set, logouts are announced to every gateway on <nats.stream_prefix>.gateway.logout, so a
  // revoked token stops working at once everywhere, not after the cache TTL.
  stream::JetStream* nats = nullptr;
};

class Gateway {
 public:
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(const config::Config& config,
                                                        GatewayUpstreams upstreams,
                                                        prometheus::Registry* registry,
                                                        const Clock& clock);
  ~Gateway();

  int client_port() const;
  int federation_port() const;
  // Stops listening, then drains for up to 10 s: parked /sync long-polls are cancelled (answered
  // 503, retry), other requests in flight finish, and every answer goes out with
  // `Connection: close`. Then closes all connections. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace periscope::gateway
