#pragma once
// The roomserver: the single writer of rooms' events. It creates rooms and accepts local events
// (storage/, perform/), publishes every accepted event to the output stream through the outbox
// (output/), keeps local peeks (perform/local_peeks.h) and answers queries (service/).
// Federated peeks still answer UNIMPLEMENTED.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/clock/clock.h"
#include "pkg/config/config.h"
#include "pkg/matrix/signing_key.h"
#include "pkg/pg/pg.h"
#include "pkg/stream/jetstream.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace periscope::roomserver {

class RoomserverComponent {
 public:
  static constexpr char kServiceName[] = "periscope.roomserver.v1.RoomserverService";

  // Applies migrations, declares the output stream, and wires the service. `clock` stamps
  // events and peek expiries. `federationapi` (may be null: joins of rooms on other servers are
  // then refused) joins local users to rooms this server is not in.
  static absl::StatusOr<std::unique_ptr<RoomserverComponent>> Create(
      const config::Config& config, pg::Pool& pool, stream::JetStream& js,
      const matrix::SigningKey& key, const Clock& clock = SystemClock::Get(),
      std::shared_ptr<grpc::Channel> federationapi = nullptr,
      prometheus::Registry* registry = nullptr);
  ~RoomserverComponent();
  std::vector<grpc::Service*> services();

 private:
  struct Parts;
  explicit RoomserverComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::roomserver
