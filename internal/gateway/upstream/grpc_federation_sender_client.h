#pragma once
// FederationSenderClient over gRPC (callback API).

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "internal/gateway/upstream/federation_sender_client.h"

namespace periscope::gateway {

std::unique_ptr<FederationSenderClient> NewGrpcFederationSenderClient(
    std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);

}  // namespace periscope::gateway
