#include "internal/federationsender/service/federationsender_service.h"

#include "pkg/grpc/status_conversion.h"

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
