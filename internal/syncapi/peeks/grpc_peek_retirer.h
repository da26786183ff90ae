#pragma once
// PeekRetirer over the roomserver's gRPC API (PerformUnpeek, reason expired).

#include <memory>

#include "grpcpp/channel.h"
#include "internal/syncapi/peeks/peek_expirer.h"

namespace periscope::syncapi {

std::unique_ptr<PeekRetirer> NewGrpcPeekRetirer(std::shared_ptr<grpc::Channel> roomserver,
                                                absl::Duration timeout);

}  // namespace periscope::syncapi
