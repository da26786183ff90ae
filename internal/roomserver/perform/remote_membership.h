#pragma once
// What the roomserver needs of other servers to change a local user's membership in a room it is
// not in, or a remote user's in ours: the federationapi's PerformJoin (make_join and send_join
// through a resident server, then the room's state input back into the roomserver), PerformLeave
// (make_leave and send_leave: rejecting an invite received over federation) and PerformInvite
// (the invitee's server signs the invite, which then enters the room), and PerformOutboundPeek
// (a local device peeks a room of another server). Over gRPC in the
// component; absent where federation is not wired.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace periscope::roomserver {

class RemoteMembership {
 public:
  virtual ~RemoteMembership() = default;
  // Joins `user_id` to `room_id` through `server_names`; returns the join event's id.
  virtual absl::StatusOr<std::string> Join(const std::string& room_id, const std::string& user_id,
                                           const std::vector<std::string>& server_names,
                                           const std::string& content_json) = 0;
  // Makes `user_id` leave `room_id` through `server_names`; returns the leave event's id.
  virtual absl::StatusOr<std::string> Leave(const std::string& room_id, const std::string& user_id,
                                            const std::vector<std::string>& server_names,
                                            const std::string& content_json) = 0;
  // Sends the invite `event_json` (built and authorised here) to the invitee's server; once
  // signed by it, the invite is input into the room. Returns its id.
  virtual absl::StatusOr<std::string> Invite(
      const std::string& room_id, int room_version, const std::string& event_json,
      const std::vector<std::string>&
          invite_room_state) = 0;  // Peeks (MSC2444) into `room_id`, which this server does not
                                   // know, through `server_names`: the
  // room's state is input here before this returns. Returns the server peeked.
  virtual absl::StatusOr<std::string> Peek(const std::string& room_id,
                                           const std::vector<std::string>& server_names) {
    return absl::UnimplementedError("peeking over federation is not wired");
  }
};

std::unique_ptr<RemoteMembership> NewGrpcRemoteMembership(
    std::shared_ptr<grpc::Channel> federationapi, absl::Duration timeout);

}  // namespace periscope::roomserver
