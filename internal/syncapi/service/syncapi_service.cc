#include "internal/syncapi/service/syncapi_service.h"

#include "internal/syncapi/service/sync_call.h"
#include "pkg/grpc/service_reply.h"

namespace periscope::syncapi {

grpc::ServerUnaryReactor* SyncApiServiceImpl::Sync(grpc::CallbackServerContext* ctx,
                                                   const v1::SyncRequest* request,
                                                   v1::SyncResponse* response) {
  return SyncCall::Start(ctx, runner_, *request, response);
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryMessages(grpc::CallbackServerContext* ctx,
                                                            const v1::QueryMessagesRequest* request,
                                                            v1::QueryMessagesResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  notifier_.Post([this, ctx, request, response, reactor] {
    reactor->Finish(
        grpcutil::ReplyWith(pager_.Page(*request), response, ctx, "syncapi", "QueryMessages"));
  });
  return reactor;
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryContext(grpc::CallbackServerContext* ctx,
                                                           const v1::QueryContextRequest* request,
                                                           v1::QueryContextResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  notifier_.Post([this, ctx, request, response, reactor] {
    reactor->Finish(
        grpcutil::ReplyWith(pager_.Context(*request), response, ctx, "syncapi", "QueryContext"));
  });
  return reactor;
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryRoomEvent(
    grpc::CallbackServerContext* ctx, const v1::QueryRoomEventRequest* request,
    v1::QueryRoomEventResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  notifier_.Post([this, ctx, request, response, reactor] {
    reactor->Finish(
        grpcutil::ReplyWith(reader_.Event(*request), response, ctx, "syncapi", "QueryRoomEvent"));
  });
  return reactor;
}

grpc::ServerUnaryReactor* SyncApiServiceImpl::QueryRoomState(
    grpc::CallbackServerContext* ctx, const v1::QueryRoomStateRequest* request,
    v1::QueryRoomStateResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  notifier_.Post([this, ctx, request, response, reactor] {
    reactor->Finish(
        grpcutil::ReplyWith(reader_.State(*request), response, ctx, "syncapi", "QueryRoomState"));
  });
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
