#pragma once
// One /sync call on gRPC's callback API. It owns its state until gRPC is done with it (OnDone),
// builds the response, and if there is nothing new parks in the Notifier without a thread. It
// reacts to cancellation: when the client (the gateway, because its HTTP client hung up) cancels,
// a parked call leaves the notifier at once instead of holding its memory until the deadline.

#include <atomic>
#include <cstdint>

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "internal/syncapi/notifier/notifier.h"
#include "internal/syncapi/service/sync_metrics.h"
#include "internal/syncapi/sync/sync_builder.h"
#include "pkg/clock/clock.h"

namespace periscope::syncapi {

class SyncCall final : public grpc::ServerUnaryReactor {
 public:
  // Starts the call: the first attempt runs before the constructor returns.
  static SyncCall* Start(grpc::CallbackServerContext* ctx, SyncBuilder& builder, Notifier& notifier,
                         SyncMetrics& metrics, const Clock& clock, SyncQuery query,
                         absl::Time deadline, v1::SyncResponse* response);

  void OnCancel() override;
  void OnDone() override;

 private:
  SyncCall(grpc::CallbackServerContext* ctx, SyncBuilder& builder, Notifier& notifier,
           SyncMetrics& metrics, const Clock& clock, SyncQuery query, absl::Time deadline,
           v1::SyncResponse* response);
  // Builds; finishes if there is something to say or no time left, else parks.
  void Attempt();

  grpc::CallbackServerContext* ctx_;
  SyncBuilder& builder_;
  Notifier& notifier_;
  SyncMetrics& metrics_;
  const Clock& clock_;
  const SyncQuery query_;
  const absl::Time deadline_;
  v1::SyncResponse* response_;
  // The answer if the wait ends with nothing new: the same token again.
  v1::SyncResponse last_;
  // Names this call's waiter in the notifier.
  const uint64_t cancel_key_;
  // Set by OnCancel; spares a build when the client is already gone.
  std::atomic<bool> cancelled_{false};
};

}  // namespace periscope::syncapi
