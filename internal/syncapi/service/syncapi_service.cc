#include "internal/syncapi/service/syncapi_service.h"

#include "pkg/grpc/service_reply.h"
#include "pkg/grpc/status_conversion.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {

grpc::ServerUnaryReactor* SyncApiServiceImpl::Sync(grpc::CallbackServerContext* ctx,
                                                   const v1::SyncRequest* request,
                                                   v1::SyncResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::StatusOr<int64_t> since = ParseSinceToken(request->since());
  absl::StatusOr<SyncFilter> filter = ParseSyncFilter(request->filter_json());
  absl::Status invalid = !since.ok() ? since.status() : filter.status();
  if (!invalid.ok()) {
    reactor->Finish(grpcutil::FinishCall(invalid, ctx, "syncapi", "Sync"));
    return reactor;
  }
  SyncQuery query{request->user_id(),       request->device_id(),  *since,
                  request->since().empty(), request->full_state(), *filter};
  absl::Duration wait =
      std::clamp(absl::Milliseconds(request->timeout_ms()), absl::ZeroDuration(), kMaxSyncWait);
  Attempt(ctx, reactor, std::move(query), clock_.Now() + wait, response);
  return reactor;
}

void SyncApiServiceImpl::Attempt(grpc::CallbackServerContext* ctx,
                                 grpc::ServerUnaryReactor* reactor, SyncQuery query,
                                 absl::Time deadline, v1::SyncResponse* response) {
  bool empty = true;
  absl::StatusOr<v1::SyncResponse> built = builder_.Build(query, &empty);
  if (!built.ok()) {
    reactor->Finish(grpcutil::FinishCall(built.status(), ctx, "syncapi", "Sync"));
    return;
  }
  // Initial and full-state syncs answer at once, as does anything new or an expired wait.
  if (!empty || query.initial || query.full_state || clock_.Now() >= deadline ||
      ctx->IsCancelled()) {
    *response = *std::move(built);
    reactor->Finish(grpc::Status::OK);
    return;
  }
  absl::StatusOr<int64_t> seen = ParseSinceToken(built->next_batch());
  const std::string user = query.user_id;
  notifier_.Wait(user, seen.ok() ? *seen : 0, deadline,
                 [this, ctx, reactor, query = std::move(query), deadline, response,
                  last = *std::move(built)](Notifier::Reason reason) mutable {
                   if (reason == Notifier::Reason::kWoken) {
                     Attempt(ctx, reactor, std::move(query), deadline, response);
                     return;
                   }
                   *response = std::move(last);  // nothing new: the same token again
                   reactor->Finish(grpc::Status::OK);
                 });
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
