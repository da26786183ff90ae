#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "internal/roomserver/perform/remote_membership.h"
#include "periscope/federationapi/v1/federationapi_service.grpc.pb.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::roomserver {
namespace {

namespace fed = federationapi::v1;

class GrpcRemoteMembership final : public RemoteMembership {
 public:
  GrpcRemoteMembership(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(fed::FederationApiService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::StatusOr<std::string> Join(const std::string& room_id, const std::string& user_id,
                                   const std::vector<std::string>& server_names,
                                   const std::string& content_json) override {
    fed::PerformJoinRequest request;
    request.set_room_id(room_id);
    request.set_user_id(user_id);
    for (const std::string& server : server_names) request.add_server_names(server);
    request.set_content_json(content_json);
    fed::PerformJoinResponse response;
    return Call(&fed::FederationApiService::Stub::PerformJoin, request, response);
  }

  absl::StatusOr<std::string> Leave(const std::string& room_id, const std::string& user_id,
                                    const std::vector<std::string>& server_names,
                                    const std::string& content_json) override {
    fed::PerformLeaveRequest request;
    request.set_room_id(room_id);
    request.set_user_id(user_id);
    for (const std::string& server : server_names) request.add_server_names(server);
    request.set_content_json(content_json);
    fed::PerformLeaveResponse response;
    return Call(&fed::FederationApiService::Stub::PerformLeave, request, response);
  }

  absl::StatusOr<std::string> Invite(const std::string& room_id, int room_version,
                                     const std::string& event_json,
                                     const std::vector<std::string>& invite_room_state) override {
    fed::PerformInviteRequest request;
    request.set_room_id(room_id);
    request.set_room_version(absl::StrCat(room_version));
    request.set_event_json(event_json);
    for (const std::string& stripped : invite_room_state) {
      request.add_invite_room_state_json(stripped);
    }
    fed::PerformInviteResponse response;
    return Call(&fed::FederationApiService::Stub::PerformInvite, request, response);
  }

  absl::StatusOr<std::string> Peek(const std::string& room_id,
                                   const std::vector<std::string>& server_names) override {
    fed::PerformOutboundPeekRequest request;
    request.set_room_id(room_id);
    for (const std::string& server : server_names) request.add_server_names(server);
    fed::PerformOutboundPeekResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    grpc::Status s = stub_->PerformOutboundPeek(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return response.server_name();
  }

 private:
  // One unary call with the deadline; the answer's event id.
  template <typename Request, typename Response>
  absl::StatusOr<std::string> Call(grpc::Status (fed::FederationApiService::Stub::*method)(
                                       grpc::ClientContext*, const Request&, Response*),
                                   const Request& request, Response& response) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    grpc::Status s = (stub_.get()->*method)(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return response.event_id();
  }

  std::unique_ptr<fed::FederationApiService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<RemoteMembership> NewGrpcRemoteMembership(
    std::shared_ptr<grpc::Channel> federationapi, absl::Duration timeout) {
  return std::make_unique<GrpcRemoteMembership>(std::move(federationapi), timeout);
}

}  // namespace periscope::roomserver
