#include "internal/federationsender/queue/transaction_sender.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/clock/backoff.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationsender {

TransactionSender::TransactionSender(QueueStore& store, federation::FederationCaller& federation,
                                     std::string our_server_name, const Clock& clock,
                                     absl::Duration max_backoff, TransactionSenderCounters counters)
    : store_(store),
      federation_(federation),
      our_server_name_(std::move(our_server_name)),
      clock_(clock),
      max_backoff_(max_backoff),
      counters_(std::move(counters)),
      started_ms_(absl::ToUnixMillis(clock.Now())) {}

std::string TransactionSender::NewTxnId() {
  // Unique across restarts (the start time) and within a process (the counter).
  return absl::StrCat(started_ms_, "-", txn_counter_.fetch_add(1) + 1);
}

absl::Duration TransactionSender::BackoffAfter(int failures) const {
  return DoublingBackoff(kFirstBackoff, max_backoff_, failures);
}

absl::StatusOr<absl::Time> TransactionSender::RetryAt(const std::string& destination) {
  absl::StatusOr<DestinationBackoff> backoff = store_.Backoff(destination);
  if (!backoff.ok()) return backoff.status();
  return backoff->retry_at;
}

absl::StatusOr<bool> TransactionSender::Wake(const std::string& destination) {
  absl::StatusOr<DestinationBackoff> backoff = store_.Backoff(destination);
  if (!backoff.ok()) return backoff.status();
  if (backoff->failures == 0 && backoff->retry_at == absl::InfinitePast()) return false;
  if (absl::Status s = store_.SetBackoff(destination, DestinationBackoff{}); !s.ok()) return s;
  return true;
}

absl::StatusOr<TransactionSender::Result> TransactionSender::SendOnce(
    const std::string& destination, bool* drained) {
  if (drained != nullptr) *drained = false;
  absl::StatusOr<DestinationBackoff> backoff = store_.Backoff(destination);
  if (!backoff.ok()) return backoff.status();
  if (backoff->retry_at > clock_.Now()) return Result::kBackingOff;
  absl::StatusOr<std::optional<PendingTransaction>> txn =
      store_.NextTransaction(destination, NewTxnId(), kMaxPdusPerTransaction);
  if (!txn.ok()) return txn.status();
  if (!*txn) return Result::kIdle;

  matrix::Json pdus = matrix::Json::array();
  for (const QueuedPdu& pdu : (*txn)->pdus) {
    matrix::Json event = matrix::Json::parse(pdu.event_json, nullptr, false);
    if (event.is_object()) pdus.push_back(std::move(event));
  }
  matrix::Json body = {{"origin", our_server_name_},
                       {"origin_server_ts", absl::ToUnixMillis(clock_.Now())},
                       {"pdus", std::move(pdus)}};
  if (!(*txn)->expired_peeks.empty()) {
    matrix::Json expired = matrix::Json::array();
    for (const ExpiredPeek& peek : (*txn)->expired_peeks) {
      expired.push_back({{"room_id", peek.room_id}, {"peek_id", peek.peek_id}});
    }
    body["expired_peeks"] = std::move(expired);
  }
  absl::StatusOr<federation::FederationResponse> answer = federation_.Call(
      destination, "PUT",
      absl::StrCat("/_matrix/federation/v1/send/", federation::EncodePathArg((*txn)->txn_id)),
      body);
  if (answer.ok() && answer->ok()) {
    if (counters_.on_transaction) counters_.on_transaction("ok");
    if (counters_.on_expired_peeks_sent && !(*txn)->expired_peeks.empty()) {
      counters_.on_expired_peeks_sent(static_cast<int64_t>((*txn)->expired_peeks.size()));
    }
    if (counters_.on_relayed) {
      const absl::Time now = clock_.Now();
      for (const QueuedPdu& pdu : (*txn)->pdus) {
        if (pdu.committed_ts <= 0) continue;  // written before the time was kept
        counters_.on_relayed(
            std::max(absl::ZeroDuration(), now - absl::FromUnixMillis(pdu.committed_ts)),
            pdu.to_peeker);
      }
    }
    if (answer->body.is_object() && answer->body.contains("pdus") &&
        answer->body["pdus"].is_object()) {
      for (const auto& [event_id, result] : answer->body["pdus"].items()) {
        if (result.is_object() && result.contains("error")) {
          logging::Info("federationsender.pdu_refused", {{"destination", destination},
                                                         {"event_id", event_id},
                                                         {"error", result["error"].dump()}});
        }
      }
    }
    if (absl::Status s = store_.CompleteTransaction(destination, (*txn)->txn_id); !s.ok()) {
      return s;  // sent again later under the same txn id: the receiver answers from its record
    }
    if (drained != nullptr) *drained = !(*txn)->more_queued;
    return Result::kSent;
  }
  if (counters_.on_transaction) counters_.on_transaction(answer.ok() ? "refused" : "unreachable");
  int failures = backoff->failures + 1;
  absl::Duration wait = BackoffAfter(failures);
  logging::Warn("federationsender.transaction_failed",
                {{"destination", destination},
                 {"txn_id", (*txn)->txn_id},
                 {"failures", failures},
                 {"retry_in", absl::FormatDuration(wait)},
                 {"error", answer.ok() ? absl::StrCat("HTTP ", answer->status)
                                       : answer.status().ToString()}});
  if (absl::Status s = store_.SetBackoff(destination, {failures, clock_.Now() + wait}); !s.ok()) {
    return s;
  }
  return Result::kFailed;
}

}  // namespace periscope::federationsender
