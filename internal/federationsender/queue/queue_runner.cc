#include "internal/federationsender/queue/queue_runner.h"

#include "absl/time/clock.h"
#include "pkg/logging/logging.h"

namespace periscope::federationsender {

QueueRunner::QueueRunner(QueueStore& store, TransactionSender& sender, const Clock& clock,
                         SweepGauges gauges, int workers, absl::Duration poll,
                         EvictionCounter evictions)
    : store_(store),
      sender_(sender),
      clock_(clock),
      gauges_(std::move(gauges)),
      evictions_(std::move(evictions)),
      workers_(std::max(1, workers)),
      poll_(poll) {}

QueueRunner::~QueueRunner() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
}

void QueueRunner::Start() {
  threads_.emplace_back([this] { SweepLoop(); });
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

void QueueRunner::Enqueue(const std::string& destination) {
  if (busy_.insert(destination).second) {
    ready_.push_back(destination);
  } else {
    again_.insert(destination);
  }
}

void QueueRunner::Notify(const std::vector<std::string>& destinations) {
  absl::MutexLock lock(&mu_);
  for (const std::string& d : destinations) Enqueue(d);
}

void QueueRunner::Wake(const std::string& destination) {
  absl::StatusOr<bool> was_backing_off = sender_.Wake(destination);
  if (!was_backing_off.ok()) {
    logging::Warn("federationsender.wake_failed",
                  {{"destination", destination}, {"error", was_backing_off.status()}});
    return;
  }
  // Only a destination we were holding back has anything to resume (any server that contacts
  // us wakes us; most have nothing queued).
  if (!*was_backing_off) return;
  absl::MutexLock lock(&mu_);
  Enqueue(destination);
}

void QueueRunner::Sweep() {
  absl::StatusOr<std::vector<std::string>> told =
      store_.EvictInboundPeeks(absl::ToUnixMillis(clock_.Now()));
  if (!told.ok()) {
    logging::Warn("federationsender.peek_eviction_failed", {{"error", told.status()}});
  } else if (!told->empty()) {
    logging::Info("federationsender.inbound_peeks_evicted", {{"peeks", told->size()}});
    if (evictions_) evictions_(static_cast<int64_t>(told->size()));
  }
  absl::StatusOr<std::vector<std::string>> with_work = store_.DestinationsWithWork();
  if (!with_work.ok()) {
    logging::Warn("federationsender.sweep_failed", {{"error", with_work.status()}});
    return;
  }
  if (gauges_) {
    absl::StatusOr<int64_t> queued = store_.QueuedPdus();
    absl::StatusOr<int64_t> in_backoff = store_.DestinationsInBackoff(clock_.Now());
    absl::StatusOr<int64_t> peeks = store_.InboundPeekCount();
    if (queued.ok() && in_backoff.ok() && peeks.ok()) gauges_(*queued, *in_backoff, *peeks);
  }
  absl::MutexLock lock(&mu_);
  // SendOnce checks the backoff itself; a destination still backing off is simply let go again.
  for (const std::string& d : *with_work) Enqueue(d);
}

void QueueRunner::SweepLoop() {
  while (true) {
    Sweep();
    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || sweep_now_; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), poll_);
    if (stopping_) return;
    sweep_now_ = false;
  }
}

void QueueRunner::WorkerLoop() {
  while (true) {
    std::string destination;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !ready_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      destination = ready_.front();
      ready_.pop_front();
    }
    // Transactions follow each other until the queue is empty, or a failure backs it off.
    while (true) {
      bool drained = false;
      absl::StatusOr<TransactionSender::Result> r = sender_.SendOnce(destination, &drained);
      if (!r.ok()) {
        logging::Warn("federationsender.send_failed",
                      {{"destination", destination}, {"error", r.status()}});
      }
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      if (r.ok() && *r == TransactionSender::Result::kSent && !drained) continue;
      // Idle, or sent all there was (or failed): done, unless more was queued while this worker
      // was looking (a Notify meanwhile put the destination in again_). Looking again only to
      // find the queue empty would cost a database transaction per destination per event.
      const bool emptied = r.ok() && (*r == TransactionSender::Result::kIdle ||
                                      *r == TransactionSender::Result::kSent);
      if (emptied && again_.erase(destination) > 0) continue;
      again_.erase(destination);
      busy_.erase(destination);
      break;
    }
    absl::MutexLock lock(&mu_);
    if (stopping_) busy_.erase(destination);
  }
}

}  // namespace periscope::federationsender
