#pragma once
// The federationsender: outbound federation (queries of other servers today; per-destination
// queues and federated peeks as they are built).

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/clock/clock.h"
#include "pkg/config/config.h"
#include "pkg/matrix/signing_key.h"
#include "pkg/pg/pg.h"

namespace periscope::federationsender {

class FederationSenderComponent {
 public:
  static constexpr char kServiceName[] = "periscope.federationsender.v1.FederationSenderService";

  // Applies the component's migrations and wires the service. `pool`, `key` and `clock` must
  // outlive the component.
  static absl::StatusOr<std::unique_ptr<FederationSenderComponent>> Create(
      const config::Config& config, pg::Pool& pool, const matrix::SigningKey& key,
      const Clock& clock);
  ~FederationSenderComponent();
  std::vector<grpc::Service*> services();

 private:
  struct Parts;
  explicit FederationSenderComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::federationsender
