#pragma once
// Processes the PDUs parked while our joins were under way (rooms_being_joined.h) on a thread of
// its own, so that a join returns as soon as it is in: processing may fetch missing events and a
// state from other servers (tens of seconds each), which must not hold a client's /join past its
// deadline. Batches are processed in the order they were handed over. PDUs that met an outage
// (UNAVAILABLE: the roomserver or database down) come back and are tried again after a backoff
// (1 s doubling to 30 s, kMaxAttempts in all): their senders were answered long ago and will not
// send them again. What is left at shutdown is logged and dropped (a later event of their
// senders fetches them back as missing).

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "internal/federationapi/inbound/rooms_being_joined.h"
#include "pkg/clock/clock.h"

namespace periscope::federationapi {

class ParkedPduWorker {
 public:
  static constexpr int kMaxAttempts = 8;
  // How often a batch waiting for its retry is looked at.
  static constexpr absl::Duration kRetryPoll = absl::Milliseconds(200);

  // Processes a batch, stopping between PDUs once `stopping()` holds; returns the PDUs to try
  // again (those that met an outage). TransactionProcessor::ProcessParked.
  using Process = std::function<std::vector<RoomsBeingJoined::Parked>(
      const std::vector<RoomsBeingJoined::Parked>& batch, const std::function<bool()>& stopping)>;

  ParkedPduWorker(Process process, const Clock& clock,
                  absl::Duration first_backoff = absl::Seconds(1));
  ~ParkedPduWorker();  // stops after the PDU under way, and joins

  // `after` (may be null) runs on the worker's thread once the batch was processed (before any
  // later batch): a peek hands over its parked PDUs round by round this way.
  void Submit(std::vector<RoomsBeingJoined::Parked> batch, std::function<void()> after = nullptr);

 private:
  struct Batch {
    std::vector<RoomsBeingJoined::Parked> pdus;
    std::function<void()> after;
    int attempt = 1;
    absl::Time not_before = absl::InfinitePast();
  };
  void Run();

  Process process_;
  const Clock& clock_;
  const absl::Duration first_backoff_;
  absl::Mutex mu_;
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace periscope::federationapi
