#include "internal/syncapi/service/syncapi_service.h"

#include "internal/syncapi/service/sync_call.h"
#include "pkg/grpc/service_reply.h"
#include "pkg/grpc/status_conversion.h"
#include "pkg/logging/logging.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {

grpc::ServerUnaryReactor* SyncApiServiceImpl::Sync(grpc::CallbackServerContext* ctx,
                                                   const v1::SyncRequest* request,
                                                   v1::SyncResponse* response) {
  absl::StatusOr<int64_t> since = ParseSinceToken(request->since());
  absl::StatusOr<SyncFilter> filter = ParseSyncFilter(request->filter_json());
  absl::Status invalid = !since.ok() ? since.status() : filter.status();
  if (!invalid.ok()) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpcutil::FinishCall(invalid, ctx, "syncapi", "Sync"));
    return reactor;
  }
  // The device is syncing, so it is still looking through its peeks.
  if (absl::Status renewed = renewer_.Renew(request->user_id(), request->device_id());
      !renewed.ok()) {
    logging::Warn("syncapi.peek_renewal_failed", {{"error", renewed}});
  }
  SyncQuery query{request->user_id(),       request->device_id(),  *since,
                  request->since().empty(), request->full_state(), *filter};
  absl::Duration wait =
      std::clamp(absl::Milliseconds(request->timeout_ms()), absl::ZeroDuration(), kMaxSyncWait);
  return SyncCall::Start(ctx, builder_, notifier_, metrics_, clock_, std::move(query),
                         clock_.Now() + wait, response);
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryMessages(grpc::CallbackServerContext* ctx,
                                                            const v1::QueryMessagesRequest* request,
                                                            v1::QueryMessagesResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(
      grpcutil::ReplyWith(pager_.Page(*request), response, ctx, "syncapi", "QueryMessages"));
  return reactor;
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryContext(grpc::CallbackServerContext* ctx,
                                                           const v1::QueryContextRequest* request,
                                                           v1::QueryContextResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(
      grpcutil::ReplyWith(pager_.Context(*request), response, ctx, "syncapi", "QueryContext"));
  return reactor;
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::PutAccountData(
    grpc::CallbackServerContext* ctx, const v1::PutAccountDataRequest* request,
    v1::PutAccountDataResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(
      grpcutil::FinishCall(account_data_.Put(*request), ctx, "syncapi", "PutAccountData"));
  return reactor;
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryAccountData(
    grpc::CallbackServerContext* ctx, const v1::QueryAccountDataRequest* request,
    v1::QueryAccountDataResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(grpcutil::ReplyWith(account_data_.Query(*request), response, ctx, "syncapi",
                                      "QueryAccountData"));
  return reactor;
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::PerformTag(grpc::CallbackServerContext* ctx,
                                                         const v1::PerformTagRequest* request,
                                                         v1::PerformTagResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(grpcutil::FinishCall(account_data_.Tag(*request), ctx, "syncapi", "PerformTag"));
  return reactor;
}

}  // namespace periscope::syncapi
