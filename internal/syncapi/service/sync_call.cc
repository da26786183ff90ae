#include "internal/syncapi/service/sync_call.h"

#include "pkg/grpc/service_reply.h"

namespace periscope::syncapi {
namespace {

std::atomic<uint64_t> next_cancel_key{1};

}  // namespace

SyncCall* SyncCall::Start(grpc::CallbackServerContext* ctx, SyncBuilder& builder,
                          Notifier& notifier, SyncMetrics& metrics, const Clock& clock,
                          SyncQuery query, absl::Time deadline, v1::SyncResponse* response) {
  auto* call =
      new SyncCall(ctx, builder, notifier, metrics, clock, std::move(query), deadline, response);
  call->Attempt();
  return call;
}

SyncCall::SyncCall(grpc::CallbackServerContext* ctx, SyncBuilder& builder, Notifier& notifier,
                   SyncMetrics& metrics, const Clock& clock, SyncQuery query, absl::Time deadline,
                   v1::SyncResponse* response)
    : ctx_(ctx),
      builder_(builder),
      notifier_(notifier),
      metrics_(metrics),
      clock_(clock),
      query_(std::move(query)),
      deadline_(deadline),
      response_(response),
      cancel_key_(next_cancel_key.fetch_add(1)) {}

void SyncCall::OnCancel() {
  // The notifier remembers the key, so a registration that races with this is cancelled too.
  cancelled_.store(true);
  notifier_.Cancel(cancel_key_);
}

void SyncCall::OnDone() {
  notifier_.Forget(cancel_key_);
  delete this;
}

void SyncCall::Attempt() {
  bool empty = true;
  absl::StatusOr<v1::SyncResponse> built = builder_.Build(query_, &empty);
  if (!built.ok()) {
    Finish(grpcutil::FinishCall(built.status(), ctx_, "syncapi", "Sync"));
    return;
  }
  // Initial and full-state syncs answer at once, as does anything new or an expired wait.
  if (!empty || query_.initial || query_.full_state || clock_.Now() >= deadline_ ||
      cancelled_.load()) {
    *response_ = *std::move(built);
    Finish(grpc::Status::OK);
    return;
  }
  absl::StatusOr<int64_t> seen = ParseSinceToken(built->next_batch());
  last_ = *std::move(built);
  metrics_.Parked();
  notifier_.Wait(
      query_.user_id, seen.ok() ? *seen : 0, deadline_,
      [this](Notifier::Reason reason) {
        metrics_.Unparked();
        switch (reason) {
          case Notifier::Reason::kWoken:
            Attempt();
            return;
          case Notifier::Reason::kCancelled:
            metrics_.Cancelled();
            Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
            return;
          case Notifier::Reason::kTimedOut:
          case Notifier::Reason::kShutdown:
            *response_ = std::move(last_);  // nothing new: the same token again
            Finish(grpc::Status::OK);
            return;
        }
      },
      cancel_key_);
  // `this` may be gone already: the callback can run (and finish the call) at once.
}

}  // namespace periscope::syncapi
