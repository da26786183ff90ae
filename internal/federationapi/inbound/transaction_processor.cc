#include "internal/federationapi/inbound/transaction_processor.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "internal/federationapi/inbound/pdu_checks.h"
#include "internal/federationapi/inbound/state_input.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/server_acl.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;

absl::Status BadTransaction(absl::string_view errcode, absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode, why);
}

matrix::Json Error(absl::string_view why) { return {{"error", std::string(why)}}; }

}  // namespace

TransactionProcessor::TransactionProcessor(Keyring& keyring, RoomInput& rooms,
                                           TransactionStore& store,
                                           federation::FederationCaller* missing_events,
                                           const Clock& clock, TransactionCounters counters,
                                           RoomsBeingJoined* being_joined)
    : keyring_(keyring),
      rooms_(rooms),
      store_(store),
      missing_events_(missing_events),
      clock_(clock),
      counters_(std::move(counters)),
      being_joined_(being_joined) {}

std::shared_ptr<absl::Mutex> TransactionProcessor::OriginLock(const std::string& origin) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<absl::Mutex>& m = origin_locks_[origin];
  if (!m) m = std::make_shared<absl::Mutex>();
  return m;
}

absl::StatusOr<matrix::Json> TransactionProcessor::Process(const std::string& origin,
                                                           const std::string& txn_id,
                                                           const matrix::Json& body) {
  if (!body.is_object())
    return BadTransaction(errcode::kNotJson, "the transaction is not an object");
  auto pdus = body.find("pdus");
  if (pdus == body.end() || !pdus->is_array()) {
    return BadTransaction(errcode::kBadJson, "pdus must be a list");
  }
  auto edus = body.find("edus");
  if (edus != body.end() && !edus->is_array() && !edus->is_null()) {
    return BadTransaction(errcode::kBadJson, "edus must be a list");
  }
  if (pdus->size() > kMaxPdus ||
      (edus != body.end() && edus->is_array() && edus->size() > kMaxEdus)) {
    return BadTransaction(
        errcode::kBadJson,
        absl::StrCat("a transaction carries at most ", kMaxPdus, " PDUs and ", kMaxEdus, " EDUs"));
  }
  if (txn_id.empty()) return BadTransaction(errcode::kInvalidParam, "no transaction id");

  // One transaction of an origin at a time; another (or a retry of this one) sent meanwhile is
  // told to come back, and finds the recorded answer then.
  std::shared_ptr<absl::Mutex> origin_lock = OriginLock(origin);
  if (!origin_lock->TryLock()) {
    return MatrixError(absl::StatusCode::kResourceExhausted, errcode::kLimitExceeded,
                       "A transaction from this server is already being processed");
  }
  struct Unlock {
    TransactionProcessor* self;
    const std::string& origin;
    std::shared_ptr<absl::Mutex> lock;
    ~Unlock() {
      lock->Unlock();
      absl::MutexLock guard(&self->mu_);
      // Forgotten when idle, so the map holds only origins with a transaction in progress.
      auto it = self->origin_locks_.find(origin);
      if (it != self->origin_locks_.end() && it->second.use_count() <= 2) {
        self->origin_locks_.erase(it);
      }
    }
  } unlock{this, origin, std::move(origin_lock)};  // the map's reference and this one
  absl::StatusOr<std::optional<std::string>> recorded = store_.Answer(origin, txn_id);
  if (!recorded.ok()) return recorded.status();
  if (*recorded) {
    matrix::Json answer = matrix::Json::parse(**recorded, nullptr, false);
    if (answer.is_object()) return answer;
  }

  matrix::Json results = matrix::Json::object();
  std::set<std::string> rooms_fetched;
  const absl::Time deadline = clock_.Now() + kProcessingBudget;
  for (const matrix::Json& pdu : *pdus) {
    if (clock_.Now() > deadline) {
      std::string room_id = RoomIdOfPdu(pdu);
      absl::StatusOr<std::optional<int>> version =
          room_id.empty() ? absl::StatusOr<std::optional<int>>(std::nullopt)
                          : rooms_.RoomVersion(room_id);
      if (version.ok() && *version) {
        if (absl::StatusOr<std::string> id = matrix::ComputeEventId(pdu, **version); id.ok()) {
          results[*id] = Error("not processed: the transaction took too long");
        }
      }
      continue;
    }
    absl::StatusOr<std::optional<matrix::Json>> entry = ProcessPdu(origin, pdu, &rooms_fetched);
    if (!entry.ok()) return entry.status();  // the roomserver or database is down: retry it all
    if (!*entry) continue;
    // ProcessPdu puts the event id in "_id" so that the entry can be keyed by it.
    std::string id = (**entry)["_id"].get<std::string>();
    (**entry).erase("_id");
    results[id] = std::move(**entry);
  }
  // MSC2444: the origin ended peeks of ours (it evicted them, or the room stopped being
  // peekable). Done before the answer is recorded: a failure is retried with the transaction.
  if (auto expired = body.find("expired_peeks");
      expired != body.end() && expired->is_array() && on_expired_peek_) {
    size_t told = 0;
    for (const matrix::Json& peek : *expired) {
      // As many as a transaction's PDUs at most: each costs a call.
      if (++told > kMaxPdus) break;
      const std::string room_id = matrix::StringField(peek, "room_id");
      const std::string peek_id = matrix::StringField(peek, "peek_id");
      if (room_id.empty() || peek_id.empty()) continue;
      if (absl::Status s = on_expired_peek_(origin, room_id, peek_id);
          !s.ok() && !absl::IsNotFound(s)) {
        return s;
      }
    }
  }
  // EDUs (typing, receipts, presence, device lists) are accepted and not acted on yet.
  matrix::Json answer = {{"pdus", std::move(results)}};
  absl::StatusOr<std::string> text = matrix::EncodeCanonicalJson(answer);
  if (!text.ok()) return text.status();
  absl::Time now = clock_.Now();
  if (absl::Status s = store_.Record(origin, txn_id, *text, now); !s.ok()) return s;
  bool forget = false;
  {
    absl::MutexLock lock(&mu_);
    if (now - last_forget_ > absl::Minutes(30)) {
      last_forget_ = now;
      forget = true;
    }
  }
  if (forget) (void)store_.Forget(now - kTransactionAnswerLifetime);
  return answer;
}

absl::StatusOr<std::optional<matrix::Json>> TransactionProcessor::ProcessPdu(
    const std::string& origin, const matrix::Json& pdu, std::set<std::string>* rooms_fetched,
    bool may_park) {
  std::string room_id = RoomIdOfPdu(pdu);
  if (room_id.empty()) {
    Count("dropped");
    return std::nullopt;
  }
  if (may_park && being_joined_ != nullptr && being_joined_->Park(room_id, origin, pdu)) {
    Count("parked");
    return std::nullopt;
  }
  absl::StatusOr<std::optional<int>> version = rooms_.RoomVersion(room_id);
  if (!version.ok()) return version.status();
  if (!*version) {
    // A room this server is not in (or a version it cannot handle): ignored, as Synapse does.
    Count("ignored");
    return std::nullopt;
  }
  absl::StatusOr<std::string> event_id = matrix::ComputeEventId(pdu, **version);
  if (!event_id.ok()) {
    Count("dropped");
    return std::nullopt;
  }
  auto entry = [&](matrix::Json e) -> std::optional<matrix::Json> {
    e["_id"] = *event_id;
    return e;
  };
  absl::StatusOr<matrix::Json> acl = rooms_.ServerAcl(room_id);
  if (!acl.ok()) return acl.status();
  if (!matrix::ServerAllowedByAcl(*acl, origin)) {
    Count("denied");
    return entry(Error("the room's server ACL denies this server"));
  }
  absl::StatusOr<CheckedPdu> checked = CheckPdu(pdu, **version, keyring_);
  if (!checked.ok()) {
    if (absl::IsUnavailable(checked.status())) return checked.status();
    Count("dropped");
    return entry(Error(checked.status().message()));
  }
  bool not_processed = false;
  bool soft_failed = false;
  absl::StatusOr<matrix::Json> result =
      Input(origin, checked->event_id, checked->event, &not_processed, &soft_failed);
  if (!result.ok()) return result.status();
  // Missing events are asked for once per room and transaction: a transaction of 50 orphans
  // costs one fetch, not 50.
  // Nothing is fetched for a room known here only from an invite: any server that invited one of
  // our users could otherwise make us fetch and keep a room's whole state.
  bool fetch = not_processed && missing_events_ != nullptr && rooms_fetched->insert(room_id).second;
  if (fetch) {
    absl::StatusOr<bool> has_state = rooms_.HasState(room_id);
    if (!has_state.ok()) return has_state.status();
    fetch = *has_state;
  }
  if (fetch) {
    if (absl::Status s = FetchMissing(origin, room_id, **version, checked->event_id); !s.ok()) {
      logging::Info("federationapi.missing_events_failed",
                    {{"origin", origin}, {"event_id", checked->event_id}, {"error", s.ToString()}});
    }
    result = Input(origin, checked->event_id, checked->event, &not_processed, &soft_failed);
    if (!result.ok()) return result.status();
    if (not_processed) {
      absl::StatusOr<matrix::Json> placed =
          PlaceAcrossGap(origin, room_id, **version, checked->event_id, checked->event,
                         &not_processed, &soft_failed);
      if (placed.ok()) {
        result = *std::move(placed);
      } else {
        logging::Info("federationapi.gap_state_failed", {{"origin", origin},
                                                         {"event_id", checked->event_id},
                                                         {"error", placed.status().ToString()}});
      }
    }
  }
  if (not_processed) {
    Count("missing_prevs");
  } else if (result->contains("error")) {
    Count("rejected");
  } else if (soft_failed) {
    Count("soft_failed");
  } else if (checked->redacted) {
    Count("redacted");
  } else {
    Count("accepted");
  }
  return entry(*std::move(result));
}

std::vector<RoomsBeingJoined::Parked> TransactionProcessor::ProcessParked(
    const std::vector<RoomsBeingJoined::Parked>& parked, const std::function<bool()>& stopping) {
  std::vector<RoomsBeingJoined::Parked> again;
  // Missing events are fetched once per origin and room, as within a transaction.
  std::map<std::string, std::set<std::string>> rooms_fetched;
  for (size_t i = 0; i < parked.size(); ++i) {
    const RoomsBeingJoined::Parked& p = parked[i];
    if (stopping()) {
      logging::Info(
          "federationapi.parked_pdus_dropped",
          {{"room_id", RoomIdOfPdu(p.pdu)}, {"count", std::to_string(parked.size() - i)}});
      break;
    }
    absl::StatusOr<std::optional<matrix::Json>> entry =
        ProcessPdu(p.origin, p.pdu, &rooms_fetched[p.origin], /*may_park=*/false);
    if (!entry.ok() &&
        (absl::IsUnavailable(entry.status()) || absl::IsDeadlineExceeded(entry.status()))) {
      again.push_back(p);
    } else if (!entry.ok() || (*entry && (*entry)->contains("error"))) {
      logging::Info(
          "federationapi.parked_pdu_failed",
          {{"origin", p.origin},
           {"room_id", RoomIdOfPdu(p.pdu)},
           {"error", entry.ok() ? (**entry)["error"].dump() : entry.status().ToString()}});
    }
  }
  return again;
}

absl::StatusOr<matrix::Json> TransactionProcessor::Input(const std::string& origin,
                                                         const std::string& event_id,
                                                         const matrix::Json& event,
                                                         bool* not_processed, bool* soft_failed,
                                                         const std::set<std::string>* state) {
  absl::StatusOr<std::string> json = matrix::EncodeCanonicalJson(event);
  if (!json.ok()) return Error(json.status().message());
  roomserver::v1::InputRoomEventsRequest request;
  roomserver::v1::InputRoomEvent* input = request.add_events();
  input->set_kind(roomserver::v1::INPUT_KIND_NEW);
  input->set_event_json(*json);
  input->set_origin(origin);
  if (state != nullptr) {
    input->set_has_state(true);
    for (const std::string& id : *state) input->add_state_event_ids(id);
  }
  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> response = rooms_.Input(request);
  if (!response.ok()) return response.status();
  *not_processed = false;
  if (auto it = response->rejected().find(event_id); it != response->rejected().end()) {
    return Error(it->second);
  }
  if (!response->rejected().empty()) return Error(response->rejected().begin()->second);
  if (auto it = response->not_processed().find(event_id); it != response->not_processed().end()) {
    *not_processed = true;
    return Error(it->second);
  }
  if (!response->not_processed().empty()) {
    *not_processed = true;
    return Error(response->not_processed().begin()->second);
  }
  *soft_failed =
      std::find(response->soft_failed_event_ids().begin(), response->soft_failed_event_ids().end(),
                event_id) != response->soft_failed_event_ids().end();
  return matrix::Json::object();
}

absl::Status TransactionProcessor::FetchMissing(const std::string& origin,
                                                const std::string& room_id, int room_version,
                                                const std::string& event_id) {
  matrix::Json body = {{"earliest_events", matrix::Json::array()},
                       {"latest_events", {event_id}},
                       {"limit", kMissingEventsLimit},
                       {"min_depth", 0}};
  absl::StatusOr<federation::FederationResponse> r =
      missing_events_->Call(origin, "POST",
                            absl::StrCat("/_matrix/federation/v1/get_missing_events/",
                                         federation::EncodePathArg(room_id)),
                            body);
  if (!r.ok()) return r.status();
  if (!r->ok()) return federation::RemoteErrorStatus(origin, *r);
  auto events = r->body.is_object() ? r->body.find("events") : r->body.end();
  if (!r->body.is_object() || events == r->body.end() || !events->is_array()) {
    return absl::UnavailableError(
        absl::StrCat(origin, " answered get_missing_events without events"));
  }
  // Oldest first, so that each one's prev events are in before it; no more than asked for,
  // whatever the origin sent.
  std::vector<const matrix::Json*> ordered;
  for (const matrix::Json& e : *events) {
    if (ordered.size() >= static_cast<size_t>(kMissingEventsLimit)) break;
    if (e.is_object() && RoomIdOfPdu(e) == room_id && e.contains("depth") &&
        e["depth"].is_number_integer()) {
      ordered.push_back(&e);
    }
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const matrix::Json* a, const matrix::Json* b) {
                     return (*a)["depth"].get<int64_t>() < (*b)["depth"].get<int64_t>();
                   });
  for (const matrix::Json* e : ordered) {
    absl::StatusOr<CheckedPdu> checked = CheckPdu(*e, room_version, keyring_);
    if (!checked.ok()) {
      if (absl::IsUnavailable(checked.status())) return checked.status();
      continue;  // an ancestor that fails the checks is not given to the roomserver
    }
    bool unused = false;
    bool unused_soft = false;
    absl::StatusOr<matrix::Json> result =
        Input(origin, checked->event_id, checked->event, &unused, &unused_soft);
    if (!result.ok()) return result.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<matrix::Json> TransactionProcessor::PlaceAcrossGap(
    const std::string& origin, const std::string& room_id, int room_version,
    const std::string& event_id, const matrix::Json& event, bool* not_processed,
    bool* soft_failed) {
  absl::StatusOr<federation::FederationResponse> r = missing_events_->Call(
      origin, "GET",
      absl::StrCat("/_matrix/federation/v1/state/", federation::EncodePathArg(room_id),
                   "?event_id=", federation::EncodePathArg(event_id)),
      std::nullopt, kGapStateTimeout);
  if (!r.ok()) return r.status();
  if (!r->ok()) return federation::RemoteErrorStatus(origin, *r);
  PERISCOPE_ASSIGN_OR_RETURN(
      std::set<std::string> state,
      InputSentState(matrix::JsonField(r->body, "pdus"), matrix::JsonField(r->body, "auth_chain"),
                     room_id, room_version, origin, /*create_room=*/false, keyring_, rooms_));
  return Input(origin, event_id, event, not_processed, soft_failed, &state);
}

}  // namespace periscope::federationapi
