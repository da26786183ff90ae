#pragma once
// The SyncApiService gRPC service, on gRPC's callback API: a /sync that has nothing to return
// yet parks in the Notifier without holding a thread, and finishes when woken or timed out.

#include "internal/syncapi/notifier/notifier.h"
#include "internal/syncapi/sync/messages_pager.h"
#include "internal/syncapi/sync/sync_builder.h"
#include "periscope/syncapi/v1/syncapi_service.grpc.pb.h"
#include "pkg/clock/clock.h"

namespace periscope::syncapi {

// The longest a /sync waits, whatever timeout the client asks for.
inline constexpr absl::Duration kMaxSyncWait = absl::Minutes(2);

class SyncApiServiceImpl final : public v1::SyncApiService::CallbackService {
 public:
  SyncApiServiceImpl(SyncBuilder& builder, MessagesPager& pager, Notifier& notifier,
                     const Clock& clock)
      : builder_(builder), pager_(pager), notifier_(notifier), clock_(clock) {}

  grpc::ServerUnaryReactor* Sync(grpc::CallbackServerContext* ctx, const v1::SyncRequest* request,
                                 v1::SyncResponse* response) override;
  grpc::ServerUnaryReactor* QueryMessages(grpc::CallbackServerContext* ctx,
                                          const v1::QueryMessagesRequest* request,
                                          v1::QueryMessagesResponse* response) override;
  grpc::ServerUnaryReactor* QueryContext(grpc::CallbackServerContext* ctx,
                                         const v1::QueryContextRequest* request,
                                         v1::QueryContextResponse* response) override;

 private:
  // Builds the response; finishes the call if there is something to say or no time left, else
  // parks it in the notifier until `deadline`.
  void Attempt(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor, SyncQuery query,
               absl::Time deadline, v1::SyncResponse* response);

  SyncBuilder& builder_;
  MessagesPager& pager_;
  Notifier& notifier_;
  const Clock& clock_;
};

}  // namespace periscope::syncapi
