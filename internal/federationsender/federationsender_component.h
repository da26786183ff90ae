#pragma once
// The federationsender: outbound federation queues and the registry of inbound and outbound peeks.
// Every RPC answers UNIMPLEMENTED until federated peeking is built.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/config/config.h"
#include "pkg/pg/pg.h"

namespace periscope::federationsender {

class FederationSenderComponent {
 public:
  static constexpr char kServiceName[] = "periscope.federationsender.v1.FederationSenderService";

  // Applies the component's migrations and wires the service.
  static absl::StatusOr<std::unique_ptr<FederationSenderComponent>> Create(
      const config::Config& config, pg::Pool& pool);
  ~FederationSenderComponent();
  std::vector<grpc::Service*> services();

 private:
  struct Parts;
  explicit FederationSenderComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::federationsender
