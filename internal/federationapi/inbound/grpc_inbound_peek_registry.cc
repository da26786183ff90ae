#include "internal/federationapi/inbound/inbound_peek_registry.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"
#include "pkg/grpc/unary_call.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace fs = ::periscope::federationsender::v1;
using Stub = fs::FederationSenderService::Stub;

class GrpcInboundPeekRegistry final : public InboundPeekRegistry {
 public:
  GrpcInboundPeekRegistry(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(fs::FederationSenderService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::StatusOr<std::vector<fs::InboundPeek>> Find(const std::string& room_id,
                                                    const std::string& server_name,
                                                    const std::string& peek_id) override {
    fs::QueryInboundPeekRequest request;
    request.set_room_id(room_id);
    request.set_server_name(server_name);
    request.set_peek_id(peek_id);
    PERISCOPE_ASSIGN_OR_RETURN(
        fs::QueryInboundPeekResponse response,
        grpcutil::UnaryCall(*stub_, &Stub::QueryInboundPeek, request, timeout_));
    return std::vector<fs::InboundPeek>(response.peeks().begin(), response.peeks().end());
  }

  absl::StatusOr<int64_t> Renew(const std::string& room_id, const std::string& server_name,
                                const std::string& peek_id) override {
    fs::PerformInboundPeekRenewalRequest request;
    request.set_room_id(room_id);
    request.set_server_name(server_name);
    request.set_peek_id(peek_id);
    PERISCOPE_ASSIGN_OR_RETURN(
        fs::PerformInboundPeekRenewalResponse response,
        grpcutil::UnaryCall(*stub_, &Stub::PerformInboundPeekRenewal, request, timeout_));
    return response.renewal_interval_ms();
  }

  absl::Status Delete(const std::string& room_id, const std::string& server_name,
                      const std::string& peek_id) override {
    fs::PerformInboundUnpeekRequest request;
    request.set_room_id(room_id);
    request.set_server_name(server_name);
    request.set_peek_id(peek_id);
    return grpcutil::UnaryCall(*stub_, &Stub::PerformInboundUnpeek, request, timeout_).status();
  }

 private:
  std::unique_ptr<Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<InboundPeekRegistry> NewGrpcInboundPeekRegistry(
    std::shared_ptr<grpc::Channel> federationsender, absl::Duration timeout) {
  return std::make_unique<GrpcInboundPeekRegistry>(std::move(federationsender), timeout);
}

}  // namespace periscope::federationapi
