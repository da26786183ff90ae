#pragma once
// RoomserverClient over gRPC (callback API): no thread waits for an answer.

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "internal/gateway/upstream/roomserver_client.h"

namespace periscope::gateway {

// A client on `channel`; each call gets `timeout` as its deadline.
std::unique_ptr<RoomserverClient> NewGrpcRoomserverClient(std::shared_ptr<grpc::Channel> channel,
                                                          absl::Duration timeout);

}  // namespace periscope::gateway
