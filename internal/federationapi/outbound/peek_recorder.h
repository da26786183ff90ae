#pragma once
// What the peeking side needs of the federationsender, which holds our outbound peeks (MSC2444):
// recording one the federationapi started (the federationsender then renews it while local
// devices look, and DELETEs it when the last goes), and forgetting one the peeked server ended
// (expired_peeks). Over gRPC in the service; faked in unit tests.

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace periscope::federationapi {

class PeekRecorder {
 public:
  virtual ~PeekRecorder() = default;
  virtual absl::Status Record(const std::string& room_id, const std::string& server_name,
                              const std::string& peek_id, int64_t renewal_interval_ms) = 0;
  // A live peek of the room we hold, if any: another local device peeking the room shares it.
  struct Live {
    std::string server_name;
    std::string peek_id;
    int64_t renewal_interval_ms = 0;
  };
  virtual absl::StatusOr<std::optional<Live>> LivePeek(const std::string& room_id) = 0;
  // The peeked server ended the peek (expired_peeks): forgotten without a DELETE, and the room's
  // local peekers are told it ended.
  virtual absl::Status EndedByServer(const std::string& room_id, const std::string& server_name,
                                     const std::string& peek_id) = 0;
};

std::unique_ptr<PeekRecorder> NewGrpcPeekRecorder(std::shared_ptr<grpc::Channel> federationsender,
                                                  absl::Duration timeout);

}  // namespace periscope::federationapi
