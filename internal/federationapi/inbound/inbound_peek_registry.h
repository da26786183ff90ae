#pragma once
// What the /peek endpoints need of the federationsender, which holds the registry of other
// servers' peeks into our rooms (MSC2444): whether a peek is live (a repeated PUT, a server's
// count for its cap), its renewal and its end. Over gRPC in the service; faked in unit tests.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "periscope/federationsender/v1/federationsender.pb.h"

namespace periscope::federationapi {

class InboundPeekRegistry {
 public:
  virtual ~InboundPeekRegistry() = default;
  // Live peeks matching the filters (empty matches all).
  virtual absl::StatusOr<std::vector<federationsender::v1::InboundPeek>> Find(
      const std::string& room_id, const std::string& server_name, const std::string& peek_id) = 0;
  // Renews a peek; its new interval in ms. NOT_FOUND (M_NOT_FOUND) if it is not live.
  virtual absl::StatusOr<int64_t> Renew(const std::string& room_id, const std::string& server_name,
                                        const std::string& peek_id) = 0;
  // Ends a peek. NOT_FOUND (M_NOT_FOUND) if it is not live.
  virtual absl::Status Delete(const std::string& room_id, const std::string& server_name,
                              const std::string& peek_id) = 0;
};

std::unique_ptr<InboundPeekRegistry> NewGrpcInboundPeekRegistry(
    std::shared_ptr<grpc::Channel> federationsender, absl::Duration timeout);

}  // namespace periscope::federationapi
