#pragma once
// FederationApiClient over gRPC (callback API).

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "internal/gateway/upstream/federation_api_client.h"

namespace periscope::gateway {

std::unique_ptr<FederationApiClient> NewGrpcFederationApiClient(
    std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

}  // namespace periscope::gateway
