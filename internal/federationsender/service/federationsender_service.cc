#include "internal/federationsender/service/federationsender_service.h"

#include "pkg/grpc/status_conversion.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationsender {

grpc::Status FederationSenderServiceImpl::QueryRemoteProfile(
    grpc::ServerContext* context, const v1::QueryRemoteProfileRequest* request,
    v1::QueryRemoteProfileResponse* response) {
  absl::StatusOr<v1::QueryRemoteProfileResponse> r =
      queries_.Profile(request->user_id(), request->field());
  if (!r.ok()) return grpcutil::ToGrpcStatus(r.status(), context);
  *response = *std::move(r);
  return grpc::Status::OK;
}

grpc::Status FederationSenderServiceImpl::QueryRemoteAlias(
    grpc::ServerContext* context, const v1::QueryRemoteAliasRequest* request,
    v1::QueryRemoteAliasResponse* response) {
  absl::StatusOr<v1::QueryRemoteAliasResponse> r = queries_.Alias(request->alias());
  if (!r.ok()) return grpcutil::ToGrpcStatus(r.status(), context);
  *response = *std::move(r);
  return grpc::Status::OK;
}

namespace {

absl::Status CheckPeekKey(const std::string& room_id, const std::string& server_name,
                          const std::string& peek_id) {
  if (room_id.empty() || server_name.empty() || peek_id.empty()) {
    return absl::InvalidArgumentError("room_id, server_name and peek_id are required");
  }
  return absl::OkStatus();
}

absl::Status UnknownPeek() {
  return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                     "No such peek: it ended, expired or never began");
}

}  // namespace

grpc::Status FederationSenderServiceImpl::QueryInboundPeek(
    grpc::ServerContext* context, const v1::QueryInboundPeekRequest* request,
    v1::QueryInboundPeekResponse* response) {
  absl::StatusOr<std::vector<InboundPeekRecord>> peeks =
      store_.InboundPeeks(request->room_id(), request->server_name(), request->peek_id());
  if (!peeks.ok()) return grpcutil::ToGrpcStatus(peeks.status(), context);
  for (const InboundPeekRecord& p : *peeks) {
    v1::InboundPeek* out = response->add_peeks();
    out->set_room_id(p.room_id);
    out->set_server_name(p.server_name);
    out->set_peek_id(p.peek_id);
    out->set_latest_event_id(p.latest_event_id);
    out->set_renewed_ts(p.renewed_ts);
    out->set_renewal_interval_ms(p.renewal_interval_ms);
  }
  return grpc::Status::OK;
}

grpc::Status FederationSenderServiceImpl::PerformInboundPeekRenewal(
    grpc::ServerContext* context, const v1::PerformInboundPeekRenewalRequest* request,
    v1::PerformInboundPeekRenewalResponse* response) {
  auto renew = [&]() -> absl::Status {
    PERISCOPE_RETURN_IF_ERROR(
        CheckPeekKey(request->room_id(), request->server_name(), request->peek_id()));
    PERISCOPE_ASSIGN_OR_RETURN(
        std::optional<InboundPeekRecord> renewed,
        store_.RenewInboundPeek(request->room_id(), request->server_name(), request->peek_id(),
                                absl::ToUnixMillis(clock_.Now()),
                                absl::ToInt64Milliseconds(renewal_interval_)));
    if (!renewed) return UnknownPeek();
    response->set_renewal_interval_ms(renewed->renewal_interval_ms);
    return absl::OkStatus();
  };
  return grpcutil::ToGrpcStatus(renew(), context);
}

grpc::Status FederationSenderServiceImpl::PerformInboundUnpeek(
    grpc::ServerContext* context, const v1::PerformInboundUnpeekRequest* request,
    v1::PerformInboundUnpeekResponse*) {
  auto unpeek = [&]() -> absl::Status {
    PERISCOPE_RETURN_IF_ERROR(
        CheckPeekKey(request->room_id(), request->server_name(), request->peek_id()));
    PERISCOPE_ASSIGN_OR_RETURN(
        bool deleted,
        store_.DeleteInboundPeek(request->room_id(), request->server_name(), request->peek_id()));
    if (!deleted) return UnknownPeek();
    return absl::OkStatus();
  };
  return grpcutil::ToGrpcStatus(unpeek(), context);
}

grpc::Status FederationSenderServiceImpl::PerformOutboundPeek(
    grpc::ServerContext* context, const v1::PerformOutboundPeekRequest* request,
    v1::PerformOutboundPeekResponse*) {
  return grpcutil::ToGrpcStatus(
      outbound_.Record(request->room_id(), request->server_name(), request->peek_id(),
                       request->renewal_interval_ms()),
      context);
}

grpc::Status FederationSenderServiceImpl::PerformOutboundUnpeek(
    grpc::ServerContext* context, const v1::PerformOutboundUnpeekRequest* request,
    v1::PerformOutboundUnpeekResponse*) {
  if (request->room_id().empty()) {
    return grpcutil::ToGrpcStatus(absl::InvalidArgumentError("room_id is required"), context);
  }
  if (!request->ended_by_server().empty()) {
    return grpcutil::ToGrpcStatus(
        outbound_.EndedByServer(request->room_id(), request->ended_by_server(), request->peek_id()),
        context);
  }
  return grpcutil::ToGrpcStatus(outbound_.Unpeek(request->room_id()), context);
}

grpc::Status FederationSenderServiceImpl::QueryOutboundPeeks(
    grpc::ServerContext* context, const v1::QueryOutboundPeeksRequest* request,
    v1::QueryOutboundPeeksResponse* response) {
  absl::StatusOr<std::vector<OutboundPeekRecord>> peeks = store_.OutboundPeeks(request->room_id());
  if (!peeks.ok()) return grpcutil::ToGrpcStatus(peeks.status(), context);
  for (const OutboundPeekRecord& p : *peeks) {
    v1::OutboundPeek* out = response->add_peeks();
    out->set_room_id(p.room_id);
    out->set_server_name(p.server_name);
    out->set_peek_id(p.peek_id);
    out->set_renewed_ts(p.renewed_ts);
    out->set_renewal_interval_ms(p.renewal_interval_ms);
  }
  return grpc::Status::OK;
}

grpc::Status FederationSenderServiceImpl::PerformWakeDestination(
    grpc::ServerContext* context, const v1::PerformWakeDestinationRequest* request,
    v1::PerformWakeDestinationResponse*) {
  if (request->server_name().empty()) {
    return grpcutil::ToGrpcStatus(absl::InvalidArgumentError("server_name is required"), context);
  }
  wake_(request->server_name());
  return grpc::Status::OK;
}

}  // namespace periscope::federationsender
