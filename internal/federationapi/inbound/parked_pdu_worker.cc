#include "internal/federationapi/inbound/parked_pdu_worker.h"

#include <algorithm>
#include <string>

#include "pkg/logging/logging.h"

namespace periscope::federationapi {

ParkedPduWorker::ParkedPduWorker(Process process, const Clock& clock, absl::Duration first_backoff)
    : process_(std::move(process)),
      clock_(clock),
      first_backoff_(first_backoff),
      thread_([this] { Run(); }) {}

ParkedPduWorker::~ParkedPduWorker() {
  size_t left = 0;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (const Batch& batch : queue_) left += batch.pdus.size();
  }
  thread_.join();
  if (left > 0)
    logging::Info("federationapi.parked_pdus_dropped", {{"count", std::to_string(left)}});
}

void ParkedPduWorker::Submit(std::vector<RoomsBeingJoined::Parked> batch,
                             std::function<void()> after) {
  if (batch.empty() && !after) return;
  absl::MutexLock lock(&mu_);
  queue_.push_back({std::move(batch), std::move(after)});
}

void ParkedPduWorker::Run() {
  const std::function<bool()> stopping = [this] {
    absl::MutexLock lock(&mu_);
    return stopping_;
  };
  while (true) {
    Batch batch;
    {
      absl::MutexLock lock(&mu_);
      // The first batch due, in order; a retry waits for its backoff without holding up newer
      // batches. Woken by a submission or shutdown; a pending retry is looked at again every
      // kRetryPoll (the clock is injected, so the wait cannot be for a computed time).
      std::deque<Batch>::iterator due;
      auto find_due = [&] {
        const absl::Time now = clock_.Now();
        due = std::find_if(queue_.begin(), queue_.end(),
                           [&](const Batch& b) { return b.not_before <= now; });
        return due != queue_.end();
      };
      while (!stopping_ && !find_due()) {
        const size_t queued = queue_.size();
        auto changed = [this, queued]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || queue_.size() != queued;
        };
        if (queue_.empty()) {
          mu_.Await(absl::Condition(&changed));
        } else {
          mu_.AwaitWithTimeout(absl::Condition(&changed), kRetryPoll);
        }
      }
      if (stopping_) return;
      batch = std::move(*due);
      queue_.erase(due);
    }
    std::vector<RoomsBeingJoined::Parked> again = batch.pdus.empty()
                                                      ? std::vector<RoomsBeingJoined::Parked>{}
                                                      : process_(batch.pdus, stopping);
    if (batch.after) batch.after();
    if (again.empty()) continue;
    absl::MutexLock lock(&mu_);
    if (batch.attempt >= kMaxAttempts) {
      logging::Warn(
          "federationapi.parked_pdus_given_up",
          {{"count", std::to_string(again.size())}, {"attempts", std::to_string(batch.attempt)}});
      continue;
    }
    const absl::Duration backoff =
        std::min(absl::Seconds(30), first_backoff_ * (int64_t{1} << (batch.attempt - 1)));
    queue_.push_back({std::move(again), nullptr, batch.attempt + 1, clock_.Now() + backoff});
  }
}

}  // namespace periscope::federationapi
