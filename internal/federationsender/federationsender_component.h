#pragma once
// The federationsender: outbound federation. It reads the roomserver output stream, keeps which
// servers are in each room, queues our events for them in per-destination queues (PostgreSQL)
// and sends them in transactions; it also asks other servers questions (profiles, aliases).

#include <memory>
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
}

namespace periscope::federationsender {

class FederationSenderComponent {
 public:
  static constexpr char kServiceName[] = "periscope.federationsender.v1.FederationSenderService";

  // Applies the component's migrations, starts the destination queues and the output stream
  // consumer, and wires the service. `pool`, `js`, `key` and `clock` must outlive the component;
  // `registry` may be null. `roomserver` (may be null) finds the member events a federated join
  // brought in, which say which servers are in the room.
  static absl::StatusOr<std::unique_ptr<FederationSenderComponent>> Create(
      const config::Config& config, pg::Pool& pool, stream::JetStream& js,
      const matrix::SigningKey& key, const Clock& clock, prometheus::Registry* registry,
      std::shared_ptr<grpc::Channel> roomserver = nullptr);
  ~FederationSenderComponent();
  std::vector<grpc::Service*> services();

 private:
  struct Parts;
  explicit FederationSenderComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::federationsender
