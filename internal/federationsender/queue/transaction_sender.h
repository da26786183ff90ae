#pragma once
// Sends each destination its queued PDUs, one transaction in flight per destination, in queue
// order, at most 50 PDUs each (server-server spec "Transactions"). A transaction is chosen and
// recorded before it is sent and sent again unchanged (same txn id) until a 2xx answer, which
// alone removes its PDUs from the queue; the receiver deduplicates by txn id and event id, so a
// crash between sending and recording the answer sends nothing twice into the room. Per-PDU
// errors in the answer are logged, never retried (nobody retries them). A failure backs the
// destination off exponentially (kFirstBackoff doubling up to max_backoff; never a permanent
// block); any contact from the destination (Wake) clears it.

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "internal/federationsender/storage/queue_store.h"
#include "pkg/clock/clock.h"
#include "pkg/federation/federation_client.h"

namespace periscope::federationsender {

struct TransactionSenderCounters {
  // One call per transaction attempt: "ok", "refused" (non-2xx) or "unreachable".
  std::function<void(absl::string_view outcome)> on_transaction;
  // Expired peeks told in a transaction the destination accepted.
  std::function<void(int64_t count)> on_expired_peeks_sent;
  // Per PDU in a transaction the destination accepted: from the roomserver writing the event to
  // the destination's 2xx, and whether it went there because the destination peeks the room.
  std::function<void(absl::Duration lag, bool to_peeker)> on_relayed;
};

class TransactionSender {
 public:
  static constexpr int kMaxPdusPerTransaction = 50;
  static constexpr absl::Duration kFirstBackoff = absl::Seconds(2);

  enum class Result {
    kIdle,        // nothing queued
    kSent,        // a transaction was answered 2xx
    kFailed,      // it was not; the destination backs off
    kBackingOff,  // not tried: the destination is backing off
  };

  TransactionSender(QueueStore& store, federation::FederationCaller& federation,
                    std::string our_server_name, const Clock& clock,
                    absl::Duration max_backoff = absl::Hours(1),
                    TransactionSenderCounters counters = {});

  // Sends the destination's next transaction if its backoff allows. Errors only for the store.
  // With `drained`: set for kSent when the transaction held all that was queued when it was
  // chosen (a caller told of new work since need not look again to find it idle).
  absl::StatusOr<Result> SendOnce(const std::string& destination, bool* drained = nullptr);
  // The destination contacted us: it is up, so its backoff ends now. True if it was backing off.
  absl::StatusOr<bool> Wake(const std::string& destination);
  // When the destination may be tried again (InfinitePast: now).
  absl::StatusOr<absl::Time> RetryAt(const std::string& destination);

  absl::Duration BackoffAfter(int failures) const;

 private:
  std::string NewTxnId();

  QueueStore& store_;
  federation::FederationCaller& federation_;
  const std::string our_server_name_;
  const Clock& clock_;
  const absl::Duration max_backoff_;
  TransactionSenderCounters counters_;
  std::atomic<int64_t> txn_counter_{0};
  const int64_t started_ms_;
};

}  // namespace periscope::federationsender
