#pragma once
// A /sync over gRPC's callback API: a reactor around SyncRunner (service/sync_wait.h). It owns
// its state until gRPC is done with it (OnDone). When the client (the gateway, because its HTTP
// client hung up) cancels, a parked sync leaves the notifier at once instead of holding its memory
// until the deadline.

#include <functional>

#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "internal/syncapi/service/sync_wait.h"

namespace periscope::syncapi {

class SyncCall final : public grpc::ServerUnaryReactor {
 public:
  // Starts the call; it may finish before Start returns.
  static SyncCall* Start(grpc::CallbackServerContext* ctx, SyncRunner& runner,
                         const v1::SyncRequest& request, v1::SyncResponse* response);

  void OnCancel() override;
  void OnDone() override;

 private:
  SyncCall(grpc::CallbackServerContext* ctx, v1::SyncResponse* response)
      : ctx_(ctx), response_(response) {}
  void Answer(absl::StatusOr<v1::SyncResponse> result);

  grpc::CallbackServerContext* ctx_;
  v1::SyncResponse* response_;
  absl::Mutex mu_;
  // The runner's cancel function, once Start has it; OnCancel may come before that.
  std::function<void()> cancel_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace periscope::syncapi
