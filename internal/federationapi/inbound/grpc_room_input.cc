#include "absl/time/clock.h"
#include "internal/federationapi/inbound/room_input.h"
#include "pkg/grpc/status_conversion.h"
#include "pkg/matrix/event_crypto.h"

namespace periscope::federationapi {
namespace {

class GrpcRoomInput final : public RoomInput {
 public:
  GrpcRoomInput(roomserver::v1::RoomserverService::StubInterface& stub, absl::Duration timeout)
      : stub_(stub), timeout_(timeout) {}

  absl::StatusOr<std::optional<int>> RoomVersion(const std::string& room_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::QueryRoomVersionRequest request;
    request.set_room_id(room_id);
    roomserver::v1::QueryRoomVersionResponse response;
    grpc::Status s = stub_.QueryRoomVersion(&context, request, &response);
    if (s.error_code() == grpc::StatusCode::NOT_FOUND) return std::nullopt;
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    absl::StatusOr<int> version = matrix::ParseRoomVersion(response.room_version());
    if (!version.ok()) return std::nullopt;  // a version we cannot handle: as if unknown
    return *version;
  }

  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest& request) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::InputRoomEventsResponse response;
    grpc::Status s = stub_.InputRoomEvents(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return response;
  }

  absl::StatusOr<matrix::Json> ServerAcl(const std::string& room_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::QueryCurrentStateRequest request;
    request.set_room_id(room_id);
    roomserver::v1::StateKeyTuple* tuple = request.add_state_tuples();
    tuple->set_type("m.room.server_acl");
    tuple->set_state_key("");
    roomserver::v1::QueryCurrentStateResponse response;
    grpc::Status s = stub_.QueryCurrentState(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    if (response.state_json_size() == 0) return matrix::Json(nullptr);
    absl::StatusOr<matrix::Json> event = matrix::ParseJson(response.state_json(0));
    if (!event.ok() || !event->is_object() || !event->contains("content")) {
      return matrix::Json(nullptr);
    }
    return (*event)["content"];
  }

  absl::StatusOr<roomserver::v1::PerformInboundPeekResponse> InboundPeek(
      const roomserver::v1::PerformInboundPeekRequest& request) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::PerformInboundPeekResponse response;
    grpc::Status s = stub_.PerformInboundPeek(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return response;
  }

  absl::Status RetireInboundPeek(
      const roomserver::v1::PerformRetireInboundPeekRequest& request) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::PerformRetireInboundPeekResponse response;
    grpc::Status s = stub_.PerformRetireInboundPeek(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return absl::OkStatus();
  }

  absl::StatusOr<roomserver::v1::QueryMembershipTemplateResponse> MembershipTemplate(
      const std::string& room_id, const std::string& user_id,
      const std::string& membership) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::QueryMembershipTemplateRequest request;
    request.set_room_id(room_id);
    request.set_user_id(user_id);
    request.set_membership(membership);
    roomserver::v1::QueryMembershipTemplateResponse response;
    grpc::Status s = stub_.QueryMembershipTemplate(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return response;
  }

  absl::StatusOr<bool> HasState(const std::string& room_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::QueryCurrentStateRequest request;
    request.set_room_id(room_id);
    roomserver::v1::StateKeyTuple* tuple = request.add_state_tuples();
    tuple->set_type("m.room.create");
    tuple->set_state_key("");
    roomserver::v1::QueryCurrentStateResponse response;
    grpc::Status s = stub_.QueryCurrentState(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return response.state_json_size() > 0;
  }

  absl::Status OutOfBandMembership(
      const roomserver::v1::InputOutOfBandMembershipRequest& request) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    roomserver::v1::InputOutOfBandMembershipResponse response;
    grpc::Status s = stub_.InputOutOfBandMembership(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    return absl::OkStatus();
  }

 private:
  roomserver::v1::RoomserverService::StubInterface& stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<RoomInput> NewGrpcRoomInput(roomserver::v1::RoomserverService::StubInterface& stub,
                                            absl::Duration timeout) {
  return std::make_unique<GrpcRoomInput>(stub, timeout);
}

}  // namespace periscope::federationapi
