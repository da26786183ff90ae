#include "internal/syncapi/service/sync_call.h"

#include "pkg/grpc/service_reply.h"

namespace periscope::syncapi {

SyncCall* SyncCall::Start(grpc::CallbackServerContext* ctx, SyncRunner& runner,
                          const v1::SyncRequest& request, v1::SyncResponse* response) {
  auto* call = new SyncCall(ctx, response);
  std::function<void()> cancel = runner.Run(
      request,
      [call](absl::StatusOr<v1::SyncResponse> result) { call->Answer(std::move(result)); });
  bool cancelled = false;
  {
    absl::MutexLock lock(&call->mu_);
    call->cancel_ = cancel;
    cancelled = call->cancelled_;
  }
  if (cancelled) cancel();  // OnCancel came while the first attempt ran
  return call;
}

void SyncCall::Answer(absl::StatusOr<v1::SyncResponse> result) {
  if (!result.ok()) {
    Finish(grpcutil::FinishCall(result.status(), ctx_, "syncapi", "Sync"));
    return;
  }
  *response_ = *std::move(result);
  Finish(grpc::Status::OK);
}

void SyncCall::OnCancel() {
  std::function<void()> cancel;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    cancel = cancel_;
  }
  if (cancel) cancel();
}

void SyncCall::OnDone() { delete this; }

}  // namespace periscope::syncapi
