#include "absl/time/clock.h"
#include "internal/federationapi/inbound/inbound_peek_registry.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::federationapi {
namespace {

namespace fs = ::periscope::federationsender::v1;

class GrpcInboundPeekRegistry final : public InboundPeekRegistry {
 public:
  GrpcInboundPeekRegistry(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(fs::FederationSenderService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::StatusOr<std::vector<fs::InboundPeek>> Find(const std::string& room_id,
                                                    const std::string& server_name,
                                                    const std::string& peek_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    fs::QueryInboundPeekRequest request;
    request.set_room_id(room_id);
    request.set_server_name(server_name);
    request.set_peek_id(peek_id);
    fs::QueryInboundPeekResponse response;
    grpc::Status s = stub_->QueryInboundPeek(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return std::vector<fs::InboundPeek>(response.peeks().begin(), response.peeks().end());
  }

  absl::StatusOr<int64_t> Renew(const std::string& room_id, const std::string& server_name,
                                const std::string& peek_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    fs::PerformInboundPeekRenewalRequest request;
    request.set_room_id(room_id);
    request.set_server_name(server_name);
    request.set_peek_id(peek_id);
    fs::PerformInboundPeekRenewalResponse response;
    grpc::Status s = stub_->PerformInboundPeekRenewal(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return response.renewal_interval_ms();
  }

  absl::Status Delete(const std::string& room_id, const std::string& server_name,
                      const std::string& peek_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    fs::PerformInboundUnpeekRequest request;
    request.set_room_id(room_id);
    request.set_server_name(server_name);
    request.set_peek_id(peek_id);
    fs::PerformInboundUnpeekResponse response;
    grpc::Status s = stub_->PerformInboundUnpeek(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<fs::FederationSenderService::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<InboundPeekRegistry> NewGrpcInboundPeekRegistry(
    std::shared_ptr<grpc::Channel> federationsender, absl::Duration timeout) {
  return std::make_unique<GrpcInboundPeekRegistry>(std::move(federationsender), timeout);
}

}  // namespace periscope::federationapi
