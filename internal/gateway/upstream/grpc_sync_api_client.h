#pragma once
// SyncApiClient over gRPC (callback API).

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "internal/gateway/upstream/sync_api_client.h"

namespace periscope::gateway {

// A client on `channel`; each call's deadline is its long-poll timeout plus `timeout`.
std::unique_ptr<SyncApiClient> NewGrpcSyncApiClient(std::shared_ptr<grpc::Channel> channel,
                                                    absl::Duration timeout);

}  // namespace periscope::gateway
