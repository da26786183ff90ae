#pragma once
// What the roomserver needs to join a local user to a room it is not in: the federationapi's
// PerformJoin (make_join and send_join through a resident server, then the room's state input
// back into the roomserver). Over gRPC in the component; absent where federation is not wired.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace periscope::roomserver {

class RemoteJoiner {
 public:
  virtual ~RemoteJoiner() = default;
  // Joins `user_id` to `room_id` through `server_names`; returns the join event's id.
  virtual absl::StatusOr<std::string> Join(const std::string& room_id, const std::string& user_id,
                                           const std::vector<std::string>& server_names,
                                           const std::string& content_json) = 0;
};

std::unique_ptr<RemoteJoiner> NewGrpcRemoteJoiner(std::shared_ptr<grpc::Channel> federationapi,
                                                  absl::Duration timeout);

}  // namespace periscope::roomserver
