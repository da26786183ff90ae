#include "internal/federationsender/peeks/outbound_peeks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/clock/backoff.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/room_versions.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationsender {
namespace {

// A peeked server's interval, kept within reason (as the federationapi keeps the first one).
constexpr int64_t kMinRenewalIntervalMs = 1000;
constexpr int64_t kMaxRenewalIntervalMs = int64_t{7} * 24 * 3600 * 1000;

std::string PeekPath(const OutboundPeekRecord& peek) {
  return absl::StrCat("/_matrix/federation/v1/peek/", federation::EncodePathArg(peek.room_id), "/",
                      federation::EncodePathArg(peek.peek_id));
}

// The server does not know the endpoint (as opposed to the peek): 405, or M_UNRECOGNIZED.
bool HasNoEndpoint(const federation::FederationResponse& answer) {
  return answer.status == 405 ||
         ((answer.status == 404 || answer.status == 400) && answer.Errcode() == "M_UNRECOGNIZED");
}

}  // namespace

OutboundPeeks::~OutboundPeeks() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void OutboundPeeks::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void OutboundPeeks::Loop() {
  while (true) {
    Sweep();
    absl::MutexLock lock(&mu_);
    auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || check_now_; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), poll_);
    if (stopping_) return;
    check_now_ = false;
  }
}

void OutboundPeeks::Check(const std::string&) {
  absl::MutexLock lock(&mu_);
  check_now_ = true;
}

absl::Status OutboundPeeks::Record(const std::string& room_id, const std::string& server_name,
                                   const std::string& peek_id, int64_t renewal_interval_ms) {
  if (room_id.empty() || server_name.empty() || peek_id.empty() || renewal_interval_ms <= 0) {
    return absl::InvalidArgumentError(
        "room_id, server_name, peek_id and a positive renewal_interval_ms are required");
  }
  return store_.PutOutboundPeek(
      {room_id, server_name, peek_id, absl::ToUnixMillis(clock_.Now()), renewal_interval_ms});
}

absl::Status OutboundPeeks::Forget(const OutboundPeekRecord& peek) {
  PERISCOPE_ASSIGN_OR_RETURN(
      bool deleted, store_.DeleteOutboundPeek(peek.room_id, peek.server_name, peek.peek_id));
  if (!deleted) return absl::OkStatus();
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<OutboundPeekRecord> left,
                             store_.OutboundPeeks(peek.room_id));
  if (!left.empty()) return absl::OkStatus();
  PERISCOPE_ASSIGN_OR_RETURN(auto peekers, store_.LocalPeekers(peek.room_id));
  if (peekers.empty() || !retire_) return absl::OkStatus();
  return retire_(peek.room_id, peekers);
}

absl::Status OutboundPeeks::EndedByServer(const std::string& room_id,
                                          const std::string& server_name,
                                          const std::string& peek_id) {
  if (counters_.on_expired_received) counters_.on_expired_received();
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<OutboundPeekRecord> peeks, store_.OutboundPeeks(room_id));
  for (const OutboundPeekRecord& peek : peeks) {
    if (peek.server_name == server_name && peek.peek_id == peek_id) {
      logging::Info("federationsender.outbound_peek_expired",
                    {{"room_id", room_id}, {"server", server_name}});
      return Forget(peek);
    }
  }
  return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                     "No such outbound peek");
}

absl::Status OutboundPeeks::Unpeek(const std::string& room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<OutboundPeekRecord> peeks, store_.OutboundPeeks(room_id));
  for (const OutboundPeekRecord& peek : peeks) {
    Delete(peek);
    PERISCOPE_RETURN_IF_ERROR(
        store_.DeleteOutboundPeek(peek.room_id, peek.server_name, peek.peek_id).status());
  }
  return absl::OkStatus();
}

bool OutboundPeeks::InBackoff(const std::string& server) {
  absl::MutexLock lock(&backoff_mu_);
  auto it = backoff_.find(server);
  return it != backoff_.end() && clock_.Now() < it->second.retry_at;
}

void OutboundPeeks::Answered(const std::string& server, bool answered) {
  absl::MutexLock lock(&backoff_mu_);
  if (answered) {
    backoff_.erase(server);
    return;
  }
  ServerBackoff& b = backoff_[server];
  b.failures = std::min(b.failures + 1, 30);
  b.retry_at = clock_.Now() + DoublingBackoff(kFirstBackoff, kMaxBackoff, b.failures);
}

bool OutboundPeeks::Delete(const OutboundPeekRecord& peek) {
  absl::StatusOr<federation::FederationResponse> answer =
      federation_.Call(peek.server_name, "DELETE", PeekPath(peek), std::nullopt, absl::Seconds(10));
  // (404: the server has no such peek; or it has no DELETE endpoint at all, as Dendrite's
  // revision: nothing more can be done there.)
  const bool over =
      answer.ok() && (answer->ok() || answer->status == 404 || HasNoEndpoint(*answer));
  Answered(peek.server_name, over);
  logging::Info("federationsender.outbound_peek_deleted",
                {{"room_id", peek.room_id},
                 {"server", peek.server_name},
                 {"answered", over},
                 {"error", answer.ok() ? absl::StrCat("HTTP ", answer->status)
                                       : answer.status().ToString()}});
  return over;
}

void OutboundPeeks::Renew(const OutboundPeekRecord& peek) {
  absl::StatusOr<federation::FederationResponse> answer =
      federation_.Call(peek.server_name, "POST", absl::StrCat(PeekPath(peek), "/renew"),
                       matrix::Json::object(), absl::Seconds(10));
  bool put_again = false;
  if (answer.ok() && HasNoEndpoint(*answer)) {
    // A server of Dendrite's revision has no renew endpoint: the same PUT again renews the peek
    // (a repeated PUT of a live peek is idempotent), and answers its interval with the snapshot.
    // (Such a server never evicts peeks, so the PUT finds this one live rather than starting one
    // behind a gap.)
    put_again = true;
    answer = federation_.Call(peek.server_name, "PUT",
                              PeekPath(peek) + matrix::SupportedRoomVersionsQuery(),
                              matrix::Json::object(), absl::Seconds(30));
  }
  // 404: the server no longer has the peek. A PUT refused (403: no longer world_readable, 400)
  // says the room cannot be peeked there any more.
  if (answer.ok() &&
      (answer->status == 404 || (put_again && (answer->status == 403 || answer->status == 400)))) {
    Answered(peek.server_name, true);
    // The server no longer has it (it evicted it, or forgot it): the peek is over.
    if (counters_.on_renewal) counters_.on_renewal("ended");
    if (absl::Status s = Forget(peek); !s.ok()) {
      logging::Warn("federationsender.outbound_peek_forget_failed",
                    {{"room_id", peek.room_id}, {"error", s}});
    }
    return;
  }
  const matrix::Json* interval =
      answer.ok() && answer->ok() ? &matrix::JsonField(answer->body, "renewal_interval") : nullptr;
  Answered(peek.server_name, interval != nullptr);
  if (interval == nullptr || !interval->is_number_integer() || interval->get<int64_t>() <= 0) {
    if (counters_.on_renewal) counters_.on_renewal("failed");
    logging::Warn("federationsender.outbound_peek_renewal_failed",
                  {{"room_id", peek.room_id},
                   {"server", peek.server_name},
                   {"error", answer.ok() ? absl::StrCat("HTTP ", answer->status)
                                         : answer.status().ToString()}});
    return;
  }
  if (counters_.on_renewal) counters_.on_renewal("ok");
  OutboundPeekRecord renewed = peek;
  renewed.renewed_ts = absl::ToUnixMillis(clock_.Now());
  renewed.renewal_interval_ms =
      std::clamp<int64_t>(interval->get<int64_t>(), kMinRenewalIntervalMs, kMaxRenewalIntervalMs);
  if (absl::Status s = store_.RenewOutboundPeek(renewed).status(); !s.ok()) {
    logging::Warn("federationsender.outbound_peek_store_failed",
                  {{"room_id", peek.room_id}, {"error", s}});
  }
}

void OutboundPeeks::Sweep() {
  absl::StatusOr<std::vector<OutboundPeekRecord>> peeks = store_.OutboundPeeks("");
  if (!peeks.ok()) {
    logging::Warn("federationsender.outbound_peeks_unreadable", {{"error", peeks.status()}});
    return;
  }
  const int64_t now = absl::ToUnixMillis(clock_.Now());
  int64_t live = 0;
  for (const OutboundPeekRecord& peek : *peeks) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> peekers =
        store_.LocalPeekers(peek.room_id);
    if (!peekers.ok()) continue;
    // A peek no local device has looked through yet may be waiting for its device's new_peek
    // (the stream lags behind the peek's start): it gets kGrace.
    if (peekers->empty() &&
        (peek.confirmed || now - peek.created_ts >= absl::ToInt64Milliseconds(kGrace))) {
      // Nobody here looks any more. A DELETE that cannot be delivered is tried again (after the
      // server's backoff) until the peek would have lapsed anyway.
      const bool lapsed = now > peek.renewed_ts + peek.renewal_interval_ms;
      if ((!InBackoff(peek.server_name) && Delete(peek)) || lapsed) {
        (void)store_.DeleteOutboundPeek(peek.room_id, peek.server_name, peek.peek_id);
        continue;
      }
    } else if (!peekers->empty() && now >= peek.renewed_ts + peek.renewal_interval_ms / 2 &&
               !InBackoff(peek.server_name)) {
      Renew(peek);
    }
    ++live;
  }
  if (counters_.on_count) counters_.on_count(live);
}

}  // namespace periscope::federationsender
