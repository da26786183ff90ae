#pragma once
// The federationapi: inbound server-server requests (/send, /peek, keys). It holds the server's
// signing key and serves the key document; the other RPCs answer UNIMPLEMENTED until federated
// peeking fills them in.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/config/config.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federationapi {

class FederationApiComponent {
 public:
  static constexpr char kServiceName[] = "periscope.federationapi.v1.FederationApiService";

  static absl::StatusOr<std::unique_ptr<FederationApiComponent>> Create(
      const config::Config& config, const matrix::SigningKey& key);
  ~FederationApiComponent();
  std::vector<grpc::Service*> services();

 private:
  struct Parts;
  explicit FederationApiComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::federationapi
