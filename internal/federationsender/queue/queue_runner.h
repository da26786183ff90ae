#pragma once
// Runs the destination queues: worker threads send each destination's transactions (one
// destination per worker at a time, so one transaction in flight per destination), woken when
// events are queued for it or it contacts us, and a sweep every `poll` that evicts inbound peeks
// not renewed in time (by the injected clock) and picks up destinations whose backoff has ended
// (and any work queued before a restart).

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "internal/federationsender/queue/transaction_sender.h"
#include "internal/federationsender/storage/queue_store.h"
#include "pkg/clock/clock.h"

namespace periscope::federationsender {

class QueueRunner {
 public:
  // After each sweep: PDUs queued, destinations backing off and live inbound peeks (gauges).
  using SweepGauges =
      std::function<void(int64_t queued_pdus, int64_t in_backoff, int64_t inbound_peeks)>;
  // Called with the number of inbound peeks each sweep evicted (when it evicted any).
  using EvictionCounter = std::function<void(int64_t evicted)>;

  QueueRunner(QueueStore& store, TransactionSender& sender, const Clock& clock,
              SweepGauges gauges = nullptr, int workers = 4, absl::Duration poll = absl::Seconds(1),
              EvictionCounter evictions = nullptr);
  ~QueueRunner();  // stops and joins

  void Start();
  // Events were queued for these destinations.
  void Notify(const std::vector<std::string>& destinations);
  // The destination contacted us: its backoff ends and its queue runs now.
  void Wake(const std::string& destination);

 private:
  void Enqueue(const std::string& destination) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Evicts inbound peeks not renewed in time (their servers get expired_peeks), picks up
  // destinations with work, and updates the gauges.
  void Sweep();
  void SweepLoop();
  void WorkerLoop();

  QueueStore& store_;
  TransactionSender& sender_;
  const Clock& clock_;
  SweepGauges gauges_;
  EvictionCounter evictions_;
  const int workers_;
  const absl::Duration poll_;

  absl::Mutex mu_;
  std::deque<std::string> ready_ ABSL_GUARDED_BY(mu_);
  // Destinations ready or being sent to: never two workers on one destination.
  absl::flat_hash_set<std::string> busy_ ABSL_GUARDED_BY(mu_);
  // Busy destinations notified again meanwhile: their worker looks once more before letting go,
  // so an event queued just after its last look is not left for the next sweep.
  absl::flat_hash_set<std::string> again_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool sweep_now_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace periscope::federationsender
