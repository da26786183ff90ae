#pragma once
// Tells the federationsender that a server just contacted us with a valid signed request: it is
// up, so the queue we keep for it stops backing off and runs at once (as Synapse and Dendrite do).
// At most once per server per kWakeInterval, and without waiting for the answer.

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "pkg/clock/clock.h"

namespace periscope::federationapi {

class DestinationWaker {
 public:
  virtual ~DestinationWaker() = default;
  virtual void Contacted(const std::string& origin) = 0;
};

inline constexpr absl::Duration kWakeInterval = absl::Seconds(10);

std::unique_ptr<DestinationWaker> NewGrpcDestinationWaker(
    std::shared_ptr<grpc::Channel> federationsender, const Clock& clock);

}  // namespace periscope::federationapi
