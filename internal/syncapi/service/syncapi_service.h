#pragma once
// The SyncApiService gRPC service, on gRPC's callback API: a /sync that has nothing to return
// yet parks in the Notifier without holding a thread (service/sync_wait.h through the reactor of
// service/sync_call.h), and finishes when woken, timed out or cancelled.

#include "internal/syncapi/accountdata/account_data_keeper.h"
#include "internal/syncapi/notifier/notifier.h"
#include "internal/syncapi/service/sync_wait.h"
#include "internal/syncapi/sync/messages_pager.h"
#include "internal/syncapi/sync/room_reader.h"
#include "periscope/syncapi/v1/syncapi_service.grpc.pb.h"

namespace periscope::syncapi {

class SyncApiServiceImpl final : public v1::SyncApiService::CallbackService {
 public:
  // Room reads (which may wait for the read fence and read PostgreSQL) run on `notifier`'s
  // workers, not on gRPC's callback threads.
  SyncApiServiceImpl(SyncRunner& runner, MessagesPager& pager, RoomReader& reader,
                     AccountDataKeeper& account_data, Notifier& notifier)
      : runner_(runner),
        pager_(pager),
        reader_(reader),
        account_data_(account_data),
        notifier_(notifier) {}

  grpc::ServerUnaryReactor* Sync(grpc::CallbackServerContext* ctx, const v1::SyncRequest* request,
                                 v1::SyncResponse* response) override;
  grpc::ServerUnaryReactor* QueryMessages(grpc::CallbackServerContext* ctx,
                                          const v1::QueryMessagesRequest* request,
                                          v1::QueryMessagesResponse* response) override;
  grpc::ServerUnaryReactor* QueryContext(grpc::CallbackServerContext* ctx,
                                         const v1::QueryContextRequest* request,
                                         v1::QueryContextResponse* response) override;
  grpc::ServerUnaryReactor* QueryRoomEvent(grpc::CallbackServerContext* ctx,
                                           const v1::QueryRoomEventRequest* request,
                                           v1::QueryRoomEventResponse* response) override;
  grpc::ServerUnaryReactor* QueryRoomState(grpc::CallbackServerContext* ctx,
                                           const v1::QueryRoomStateRequest* request,
                                           v1::QueryRoomStateResponse* response) override;
  grpc::ServerUnaryReactor* PutAccountData(grpc::CallbackServerContext* ctx,
                                           const v1::PutAccountDataRequest* request,
                                           v1::PutAccountDataResponse* response) override;
  grpc::ServerUnaryReactor* QueryAccountData(grpc::CallbackServerContext* ctx,
                                             const v1::QueryAccountDataRequest* request,
                                             v1::QueryAccountDataResponse* response) override;
  grpc::ServerUnaryReactor* PerformTag(grpc::CallbackServerContext* ctx,
                                       const v1::PerformTagRequest* request,
                                       v1::PerformTagResponse* response) override;

 private:
  // Runs `read` on a notifier worker and answers the call with its result.
  template <typename Response, typename Read>
  grpc::ServerUnaryReactor* OnWorker(grpc::CallbackServerContext* ctx, Response* response,
                                     const char* method, Read read);

  SyncRunner& runner_;
  MessagesPager& pager_;
  RoomReader& reader_;
  AccountDataKeeper& account_data_;
  Notifier& notifier_;
};

}  // namespace periscope::syncapi
