#include "internal/userapi/service/userapi_service.h"

#include "pkg/grpc/service_reply.h"

namespace periscope::userapi {
namespace {

grpc::Status Finish(const absl::Status& status, grpc::ServerContext* ctx,
                    absl::string_view method) {
  return grpcutil::FinishCall(status, ctx, "userapi", method);
}

template <typename Response>
grpc::Status Reply(absl::StatusOr<Response> result, Response* response, grpc::ServerContext* ctx,
                   absl::string_view method) {
  return grpcutil::ReplyWith(std::move(result), response, ctx, "userapi", method);
}

}  // namespace

grpc::Status UserApiServiceImpl::PerformAccountCreation(
    grpc::ServerContext* ctx, const v1::PerformAccountCreationRequest* request,
    v1::PerformAccountCreationResponse* response) {
  return Reply(creator_.Create(*request), response, ctx, "PerformAccountCreation");
}

grpc::Status UserApiServiceImpl::QueryAccountAvailability(
    grpc::ServerContext* ctx, const v1::QueryAccountAvailabilityRequest* request,
    v1::QueryAccountAvailabilityResponse* response) {
  absl::StatusOr<bool> available = creator_.Available(request->localpart());
  if (!available.ok()) return Finish(available.status(), ctx, "QueryAccountAvailability");
  response->set_available(*available);
  return grpc::Status::OK;
}

grpc::Status UserApiServiceImpl::PerformPasswordLogin(
    grpc::ServerContext* ctx, const v1::PerformPasswordLoginRequest* request,
    v1::PerformPasswordLoginResponse* response) {
  return Reply(login_.Login(*request), response, ctx, "PerformPasswordLogin");
}

grpc::Status UserApiServiceImpl::QueryAccessToken(grpc::ServerContext* ctx,
                                                  const v1::QueryAccessTokenRequest* request,
                                                  v1::QueryAccessTokenResponse* response) {
  absl::StatusOr<v1::Device> device = tokens_.Resolve(request->access_token());
  if (!device.ok()) return Finish(device.status(), ctx, "QueryAccessToken");
  *response->mutable_device() = *std::move(device);
  return grpc::Status::OK;
}

grpc::Status UserApiServiceImpl::PerformLogout(grpc::ServerContext* ctx,
                                               const v1::PerformLogoutRequest* request,
                                               v1::PerformLogoutResponse*) {
  return Finish(logout_.Logout(request->user_id(), request->device_id()), ctx, "PerformLogout");
}

grpc::Status UserApiServiceImpl::PerformLogoutAll(grpc::ServerContext* ctx,
                                                  const v1::PerformLogoutAllRequest* request,
                                                  v1::PerformLogoutAllResponse* response) {
  absl::StatusOr<int> n = logout_.LogoutAll(request->user_id());
  if (!n.ok()) return Finish(n.status(), ctx, "PerformLogoutAll");
  response->set_devices_deleted(*n);
  return grpc::Status::OK;
}

grpc::Status UserApiServiceImpl::QueryProfile(grpc::ServerContext* ctx,
                                              const v1::QueryProfileRequest* request,
                                              v1::QueryProfileResponse* response) {
  return Reply(profiles_.Query(*request), response, ctx, "QueryProfile");
}

grpc::Status UserApiServiceImpl::PerformSetProfile(grpc::ServerContext* ctx,
                                                   const v1::PerformSetProfileRequest* request,
                                                   v1::PerformSetProfileResponse* response) {
  return Reply(profiles_.Set(*request), response, ctx, "PerformSetProfile");
}

}  // namespace periscope::userapi
