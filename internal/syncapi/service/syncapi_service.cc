#include "internal/syncapi/service/syncapi_service.h"

#include "internal/syncapi/service/sync_call.h"
#include "pkg/grpc/service_reply.h"

namespace periscope::syncapi {

template <typename Response, typename Read>
grpc::ServerUnaryReactor* SyncApiServiceImpl::OnWorker(grpc::CallbackServerContext* ctx,
                                                       Response* response, const char* method,
                                                       Read read) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  notifier_.Post([ctx, response, method, reactor, read = std::move(read)] {
    reactor->Finish(grpcutil::ReplyWith(read(), response, ctx, "syncapi", method));
  });
  return reactor;
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::Sync(grpc::CallbackServerContext* ctx,
                                                   const v1::SyncRequest* request,
                                                   v1::SyncResponse* response) {
  return SyncCall::Start(ctx, runner_, *request, response);
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryMessages(grpc::CallbackServerContext* ctx,
                                                            const v1::QueryMessagesRequest* request,
                                                            v1::QueryMessagesResponse* response) {
  return OnWorker(ctx, response, "QueryMessages",
                  [this, request] { return pager_.Page(*request); });
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryContext(grpc::CallbackServerContext* ctx,
                                                           const v1::QueryContextRequest* request,
                                                           v1::QueryContextResponse* response) {
  return OnWorker(ctx, response, "QueryContext",
                  [this, request] { return pager_.Context(*request); });
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryRoomEvent(
    grpc::CallbackServerContext* ctx, const v1::QueryRoomEventRequest* request,
    v1::QueryRoomEventResponse* response) {
  return OnWorker(ctx, response, "QueryRoomEvent",
                  [this, request] { return reader_.Event(*request); });
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryRoomState(
    grpc::CallbackServerContext* ctx, const v1::QueryRoomStateRequest* request,
    v1::QueryRoomStateResponse* response) {
  return OnWorker(ctx, response, "QueryRoomState",
                  [this, request] { return reader_.State(*request); });
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
