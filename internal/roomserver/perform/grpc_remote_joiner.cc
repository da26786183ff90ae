#include "absl/time/clock.h"
#include "internal/roomserver/perform/remote_joiner.h"
#include "periscope/federationapi/v1/federationapi_service.grpc.pb.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::roomserver {
namespace {

class GrpcRemoteJoiner final : public RemoteJoiner {
 public:
  GrpcRemoteJoiner(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(federationapi::v1::FederationApiService::NewStub(std::move(channel))),
        timeout_(timeout) {}

  absl::StatusOr<std::string> Join(const std::string& room_id, const std::string& user_id,
                                   const std::vector<std::string>& server_names,
                                   const std::string& content_json) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    federationapi::v1::PerformJoinRequest request;
    request.set_room_id(room_id);
    request.set_user_id(user_id);
    for (const std::string& server : server_names) request.add_server_names(server);
    request.set_content_json(content_json);
    federationapi::v1::PerformJoinResponse response;
    grpc::Status s = stub_->PerformJoin(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return response.event_id();
  }

 private:
  std::unique_ptr<federationapi::v1::FederationApiService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<RemoteJoiner> NewGrpcRemoteJoiner(std::shared_ptr<grpc::Channel> federationapi,
                                                  absl::Duration timeout) {
  return std::make_unique<GrpcRemoteJoiner>(std::move(federationapi), timeout);
}

}  // namespace periscope::roomserver
