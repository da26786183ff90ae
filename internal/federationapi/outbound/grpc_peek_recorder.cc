#include "internal/federationapi/outbound/peek_recorder.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"
#include "pkg/grpc/unary_call.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace fs = ::periscope::federationsender::v1;
using Stub = fs::FederationSenderService::Stub;

class GrpcPeekRecorder final : public PeekRecorder {
 public:
  GrpcPeekRecorder(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(fs::FederationSenderService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::Status Record(const std::string& room_id, const std::string& server_name,
                      const std::string& peek_id, int64_t renewal_interval_ms) override {
    fs::PerformOutboundPeekRequest request;
    request.set_room_id(room_id);
    request.set_server_name(server_name);
    request.set_peek_id(peek_id);
    request.set_renewal_interval_ms(renewal_interval_ms);
    return grpcutil::UnaryCall(*stub_, &Stub::PerformOutboundPeek, request, timeout_).status();
  }

  absl::StatusOr<std::optional<Live>> LivePeek(const std::string& room_id) override {
    fs::QueryOutboundPeeksRequest request;
    request.set_room_id(room_id);
    PERISCOPE_ASSIGN_OR_RETURN(
        fs::QueryOutboundPeeksResponse response,
        grpcutil::UnaryCall(*stub_, &Stub::QueryOutboundPeeks, request, timeout_));
    if (response.peeks().empty()) return std::nullopt;
    const fs::OutboundPeek& peek = response.peeks(0);
    return Live{peek.server_name(), peek.peek_id(), peek.renewal_interval_ms()};
  }

  absl::Status EndedByServer(const std::string& room_id, const std::string& server_name,
                             const std::string& peek_id) override {
    fs::PerformOutboundUnpeekRequest request;
    request.set_room_id(room_id);
    request.set_ended_by_server(server_name);
    request.set_peek_id(peek_id);
    return grpcutil::UnaryCall(*stub_, &Stub::PerformOutboundUnpeek, request, timeout_).status();
  }

 private:
  std::unique_ptr<Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<PeekRecorder> NewGrpcPeekRecorder(std::shared_ptr<grpc::Channel> federationsender,
                                                  absl::Duration timeout) {
  return std::make_unique<GrpcPeekRecorder>(std::move(federationsender), timeout);
}

}  // namespace periscope::federationapi
