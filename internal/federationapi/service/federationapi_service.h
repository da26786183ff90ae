#pragma once
// FederationApiService: the key server today; /send and /peek come with federated peeking (their
// RPCs answer UNIMPLEMENTED until then).

#include <string>

#include "periscope/federationapi/v1/federationapi_service.grpc.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federationapi {

class FederationApiServiceImpl final : public v1::FederationApiService::Service {
 public:
  // Key documents say they are valid for `key_validity` from the time they are served.
  FederationApiServiceImpl(std::string server_name, matrix::SigningKey key, const Clock& clock,
                           absl::Duration key_validity = absl::Hours(24 * 7))
      : server_name_(std::move(server_name)),
        key_(std::move(key)),
        clock_(clock),
        key_validity_(key_validity) {}

  grpc::Status GetServerKeys(grpc::ServerContext* context, const v1::GetServerKeysRequest* request,
                             v1::GetServerKeysResponse* response) override;

 private:
  std::string server_name_;
  matrix::SigningKey key_;
  const Clock& clock_;
  absl::Duration key_validity_;
};

}  // namespace periscope::federationapi
