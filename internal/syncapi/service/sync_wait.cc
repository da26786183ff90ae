#include "internal/syncapi/service/sync_wait.h"

#include <algorithm>
#include <chrono>

#include "pkg/logging/logging.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {
namespace {

std::atomic<uint64_t> next_cancel_key{1};

// A sync in progress. Shared: the notifier's callback holds it while it is parked; the cancel
// function holds it weakly.
class SyncWait : public std::enable_shared_from_this<SyncWait> {
 public:
  SyncWait(SyncBuilder& builder, Notifier& notifier, SyncMetrics& metrics, const Clock& clock,
           SyncQuery query, absl::Time deadline, SyncRunner::Done done)
      : builder_(builder),
        notifier_(notifier),
        metrics_(metrics),
        clock_(clock),
        query_(std::move(query)),
        deadline_(deadline),
        done_(std::move(done)),
        cancel_key_(next_cancel_key.fetch_add(1)) {}

  // The notifier remembers a cancelled key until told to forget it.
  ~SyncWait() { notifier_.Forget(cancel_key_); }

  // Builds; answers if there is something to say or no time left, else parks.
  void Attempt() {
    bool empty = true;
    const auto started = std::chrono::steady_clock::now();
    absl::StatusOr<v1::SyncResponse> built = builder_.Build(query_, &empty);
    metrics_.Built(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!built.ok() || !empty || query_.initial || query_.full_state || clock_.Now() >= deadline_ ||
        cancelled_.load()) {
      return Answer(std::move(built));
    }
    absl::StatusOr<int64_t> seen = ParseSinceToken(built->next_batch());
    last_ = *std::move(built);
    metrics_.Parked();
    notifier_.Wait(
        query_.user_id, seen.ok() ? *seen : 0, deadline_,
        [self = shared_from_this()](Notifier::Reason reason) {
          self->metrics_.Unparked();
          switch (reason) {
            case Notifier::Reason::kWoken:
              return self->Attempt();
            case Notifier::Reason::kCancelled:
              self->metrics_.Cancelled();
              return self->Answer(absl::CancelledError("the client went away"));
            case Notifier::Reason::kTimedOut:
            case Notifier::Reason::kShutdown:
              return self->Answer(std::move(self->last_));  // nothing new: the same token again
          }
        },
        cancel_key_);
  }

  void Cancel() {
    // The notifier remembers the key, so a registration that races with this is cancelled too.
    cancelled_.store(true);
    notifier_.Cancel(cancel_key_);
  }

 private:
  void Answer(absl::StatusOr<v1::SyncResponse> response) {
    SyncRunner::Done done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(response));
  }

  SyncBuilder& builder_;
  Notifier& notifier_;
  SyncMetrics& metrics_;
  const Clock& clock_;
  const SyncQuery query_;
  const absl::Time deadline_;
  SyncRunner::Done done_;
  // The answer if the wait ends with nothing new.
  v1::SyncResponse last_;
  const uint64_t cancel_key_;
  // Set by Cancel; spares a build when the client is already gone.
  std::atomic<bool> cancelled_{false};
};

}  // namespace

std::function<void()> SyncRunner::Run(const v1::SyncRequest& request, Done done) {
  absl::StatusOr<int64_t> since = ParseSinceToken(request.since());
  absl::StatusOr<SyncFilter> filter = ParseSyncFilter(request.filter_json());
  absl::Status invalid = !since.ok() ? since.status() : filter.status();
  if (!invalid.ok()) {
    done(invalid);
    return [] {};
  }
  SyncQuery query{request.user_id(),       request.device_id(),  *since,
                  request.since().empty(), request.full_state(), *filter};
  absl::Duration wait =
      std::clamp(absl::Milliseconds(request.timeout_ms()), absl::ZeroDuration(), kMaxSyncWait);
  auto sync = std::make_shared<SyncWait>(builder_, notifier_, metrics_, clock_, std::move(query),
                                         clock_.Now() + wait, std::move(done));
  std::weak_ptr<SyncWait> weak = sync;
  // Everything that may touch PostgreSQL (the peek renewal, a full build, an incremental build
  // that misses the cache) runs on a notifier worker, never on the caller's thread: in the
  // monolith that is one of the gateway's few HTTP threads, and a slow database must not stall
  // every HTTP connection.
  notifier_.Post([this, sync, user_id = request.user_id(), device_id = request.device_id()] {
    // The device is syncing, so it is still looking through its peeks.
    if (absl::Status renewed = renewer_.Renew(user_id, device_id); !renewed.ok()) {
      logging::Warn("syncapi.peek_renewal_failed", {{"error", renewed}});
    }
    sync->Attempt();
  });
  return [weak] {
    if (std::shared_ptr<SyncWait> live = weak.lock()) live->Cancel();
  };
}

}  // namespace periscope::syncapi
