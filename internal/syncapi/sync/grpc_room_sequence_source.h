#pragma once
// RoomSequenceSource over the roomserver's gRPC API (QueryRoomSequence).

#include <memory>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "internal/syncapi/sync/read_fence.h"

namespace periscope::syncapi {

std::unique_ptr<RoomSequenceSource> NewGrpcRoomSequenceSource(
    std::shared_ptr<grpc::Channel> roomserver, absl::Duration timeout);

}  // namespace periscope::syncapi
