#pragma once
// The federationapi: inbound server-server requests. It authenticates each one (X-Matrix, with
// its keyring of other servers' keys, cached in PostgreSQL), serves our key document and the
// notary, and answers queries from the roomserver and userapi over gRPC.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/clock/clock.h"
#include "pkg/config/config.h"
#include "pkg/matrix/signing_key.h"
#include "pkg/pg/pg.h"

namespace prometheus {
class Registry;
}

namespace periscope::federationapi {

class FederationApiComponent {
 public:
  static constexpr char kServiceName[] = "periscope.federationapi.v1.FederationApiService";

  // Applies the component's migrations and wires the service. `roomserver`, `userapi` and
  // `federationsender` are channels to those components (in-process in the monolith). `key`, `pool` and `clock` must
  // outlive the component; `registry` may be null.
  static absl::StatusOr<std::unique_ptr<FederationApiComponent>> Create(
      const config::Config& config, pg::Pool& pool, const matrix::SigningKey& key,
      const Clock& clock, std::shared_ptr<grpc::Channel> roomserver,
      std::shared_ptr<grpc::Channel> userapi, std::shared_ptr<grpc::Channel> federationsender,
      prometheus::Registry* registry);
  ~FederationApiComponent();
  std::vector<grpc::Service*> services();

 private:
  struct Parts;
  explicit FederationApiComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::federationapi
