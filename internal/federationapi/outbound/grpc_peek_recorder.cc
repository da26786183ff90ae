#include "absl/time/clock.h"
#include "internal/federationapi/outbound/peek_recorder.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::federationapi {
namespace {

namespace fs = ::periscope::federationsender::v1;

class GrpcPeekRecorder final : public PeekRecorder {
 public:
  GrpcPeekRecorder(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(fs::FederationSenderService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::Status Record(const std::string& room_id, const std::string& server_name,
                      const std::string& peek_id, int64_t renewal_interval_ms) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    fs::PerformOutboundPeekRequest request;
    request.set_room_id(room_id);
    request.set_server_name(server_name);
    request.set_peek_id(peek_id);
    request.set_renewal_interval_ms(renewal_interval_ms);
    fs::PerformOutboundPeekResponse response;
    grpc::Status s = stub_->PerformOutboundPeek(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<Live>> LivePeek(const std::string& room_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    fs::QueryOutboundPeeksRequest request;
    request.set_room_id(room_id);
    fs::QueryOutboundPeeksResponse response;
    grpc::Status s = stub_->QueryOutboundPeeks(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    if (response.peeks().empty()) return std::nullopt;
    const fs::OutboundPeek& peek = response.peeks(0);
    return Live{peek.server_name(), peek.peek_id(), peek.renewal_interval_ms()};
  }

  absl::Status EndedByServer(const std::string& room_id, const std::string& server_name,
                             const std::string& peek_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    fs::PerformOutboundUnpeekRequest request;
    request.set_room_id(room_id);
    request.set_ended_by_server(server_name);
    request.set_peek_id(peek_id);
    fs::PerformOutboundUnpeekResponse response;
    grpc::Status s = stub_->PerformOutboundUnpeek(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<fs::FederationSenderService::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<PeekRecorder> NewGrpcPeekRecorder(std::shared_ptr<grpc::Channel> federationsender,
                                                  absl::Duration timeout) {
  return std::make_unique<GrpcPeekRecorder>(std::move(federationsender), timeout);
}

}  // namespace periscope::federationapi
