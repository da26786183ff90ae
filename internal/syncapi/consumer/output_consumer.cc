#include "internal/syncapi/consumer/output_consumer.h"

#include <algorithm>
#include <map>
#include <set>

#include "internal/roomserver/api/output_stream.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/client_event.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {

absl::StatusOr<std::unique_ptr<OutputConsumer>> OutputConsumer::Start(
    const config::Config& config, stream::JetStream& js, SyncStore& store, Notifier& notifier,
    PeekMetrics& metrics, AppliedSequences& applied, roomserver::EventLookup* state_events) {
  // Declaring the stream here too lets syncapi start before the roomserver.
  stream::StreamSpec spec = roomserver::OutputStreamSpec(config);
  PERISCOPE_RETURN_IF_ERROR(js.DeclareStream(spec));
  stream::PullConsumerOptions options;
  options.spec.stream = spec.name;
  options.spec.durable = "syncapi";
  PERISCOPE_RETURN_IF_ERROR(js.DeclareConsumer(options.spec));
  auto consumer = std::make_unique<OutputConsumer>(store, notifier, metrics, applied);
  consumer->set_state_events(state_events);
  OutputConsumer* self = consumer.get();
  PERISCOPE_ASSIGN_OR_RETURN(
      consumer->consumer_,
      stream::PullConsumer::Start(js, options,
                                  [self](const stream::Message& m) { return self->Handle(m); }));
  return consumer;
}

OutputConsumer::~OutputConsumer() {
  stopping_.Notify();  // a retry in progress gives up, so Stop does not wait on it
  if (consumer_) consumer_->Stop();
}

template <typename T>
absl::StatusOr<T> OutputConsumer::RetryInPlace(absl::string_view what,
                                               const std::function<absl::StatusOr<T>()>& apply,
                                               bool* failed_once) {
  while (true) {
    absl::StatusOr<T> result = apply();
    if (result.ok()) return result;
    if (failed_once != nullptr) *failed_once = true;
    logging::Warn(what, {{"error", result.status()}});
    if (stopping_.WaitForNotificationWithTimeout(retry_interval_)) return result.status();
  }
}

absl::StatusOr<std::optional<int64_t>> OutputConsumer::ApplyInPlace(
    absl::string_view what, const std::function<absl::StatusOr<std::optional<int64_t>>()>& apply) {
  bool failed_once = false;
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int64_t> pos,
                             RetryInPlace<std::optional<int64_t>>(what, apply, &failed_once));
  if (pos.has_value() || !failed_once) return pos;
  // The failed attempt committed (its answer was lost) and the retry found the message applied.
  return RetryInPlace<int64_t>(what, [&] { return store_.MaxPosition(); });
}

absl::StatusOr<bool> OutputConsumer::ApplyRedaction(const matrix::Json& redaction,
                                                    const SyncEvent& event,
                                                    absl::string_view target_id,
                                                    absl::string_view room_version) {
  // Only the target the roomserver approved (NewRoomEvent.redacted_event_id): a redaction's own
  // "redacts" may name an event its sender must not redact.
  if (target_id.empty()) return false;
  // Only a store failure is returned (and retried); a target that cannot be redacted would fail
  // the same way forever, so it is logged and left.
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<SyncEvent> target,
                             store_.EventInRoom(event.room_id, target_id));
  if (!target) return false;  // unknown to us: nothing to redact
  absl::StatusOr<std::string> json = [&]() -> absl::StatusOr<std::string> {
    int version = 10;
    if (!room_version.empty()) {
      PERISCOPE_ASSIGN_OR_RETURN(version, matrix::ParseRoomVersion(room_version));
    }
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json pdu, matrix::ParseJson(target->event_json));
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json redacted, matrix::RedactEvent(pdu, version));
    redacted["unsigned"]["redacted_because"] =
        matrix::ClientEventFromPdu(redaction, event.event_id);
    return matrix::EncodeCanonicalJson(redacted);
  }();
  if (!json.ok()) {
    logging::Error("syncapi.redaction_unappliable",
                   {{"event_id", event.event_id}, {"error", json.status()}});
    return false;
  }
  return store_.StoreRedacted(event.room_id, target_id, *json);
}

namespace {

absl::string_view ReasonName(roomserver::v1::UnpeekReason reason) {
  switch (reason) {
    case roomserver::v1::UNPEEK_REASON_EXPIRED:
      return "expired";
    case roomserver::v1::UNPEEK_REASON_JOINED:
      return "joined";
    case roomserver::v1::UNPEEK_REASON_NOT_PEEKABLE:
      return "not_peekable";
    default:
      return "client";
  }
}

}  // namespace

stream::Outcome OutputConsumer::HandlePeek(const roomserver::v1::OutputEvent& output) {
  const int64_t seq = output.room_sequence();
  std::string user_id;
  absl::StatusOr<std::optional<int64_t>> pos;
  if (output.has_new_peek()) {
    const roomserver::v1::NewPeek& peek = output.new_peek();
    user_id = peek.user_id();
    pos = ApplyInPlace("syncapi.peek_apply_failed", [&] {
      return store_.StartPeek(output.room_id(), peek.user_id(), peek.device_id(),
                              peek.peek_expiry_ts(), seq);
    });
  } else {
    const roomserver::v1::RetirePeek& peek = output.retire_peek();
    user_id = peek.user_id();
    pos = ApplyInPlace("syncapi.peek_apply_failed", [&] {
      return store_.EndPeek(output.room_id(), peek.user_id(), peek.device_id(),
                            ReasonName(peek.reason()), seq);
    });
  }
  if (!pos.ok()) return stream::Outcome::Nak(absl::Seconds(1));  // stopping
  if (!pos->has_value()) return stream::Outcome::Ack();          // a renewal or a redelivery
  if (output.has_new_peek()) {
    metrics_.Started();
  } else {
    metrics_.Ended(ReasonName(output.retire_peek().reason()));
  }
  // A new peek wakes its own device's waiting sync (and, harmlessly, the user's others).
  notifier_.Wake({user_id}, **pos);
  metrics_.WokenForPeeks(1);
  return stream::Outcome::Ack();
}

stream::Outcome OutputConsumer::Handle(const stream::Message& message) {
  absl::StatusOr<roomserver::v1::OutputEvent> output =
      roomserver::DecodeOutputPayload(message.data);
  if (!output.ok()) return stream::Outcome::Term("undecodable output message");
  stream::Outcome outcome = stream::Outcome::Ack();
  bool stored = true;
  if (output->has_new_peek() || output->has_retire_peek()) {
    outcome = HandlePeek(*output);
  } else if (output->has_new_room_event()) {
    outcome = HandleEvent(*output);
  } else {
    stored = false;  // federated peeks: the federationsender's business
  }
  if (outcome.kind == stream::Outcome::Kind::kNak) return outcome;  // stopping
  if (!stored || outcome.kind == stream::Outcome::Kind::kTerm) {
    // Nothing (or nothing usable) to store, but the message counts as handled: reads that wait
    // for the room to catch up (sync/read_fence.h) must not wait for it forever.
    absl::StatusOr<bool> advanced = RetryInPlace<bool>("syncapi.sequence_advance_failed", [&] {
      return store_.AdvanceRoomSequence(output->room_id(), output->room_sequence());
    });
    if (!advanced.ok()) return stream::Outcome::Nak(absl::Seconds(1));  // stopping
  }
  applied_.Applied(output->room_id(), output->room_sequence());
  return outcome;
}

absl::StatusOr<std::vector<StateUpdate>> OutputConsumer::StateUpdatesOf(
    const roomserver::v1::NewRoomEvent& added, const SyncEvent& event) {
  // Keyed by (type, state_key): a key both removed and added takes the added event.
  std::map<std::pair<std::string, std::string>, StateUpdate> updates;
  auto key_of = [&](const std::string& event_id) -> absl::StatusOr<std::optional<SyncEvent>> {
    if (event_id == event.event_id) return std::optional<SyncEvent>(event);
    return store_.EventInRoom(event.room_id, event_id);
  };
  std::vector<std::string> adds(added.adds_state_event_ids().begin(),
                                added.adds_state_event_ids().end());
  std::vector<std::string> removes(added.removes_state_event_ids().begin(),
                                   added.removes_state_event_ids().end());
  // Whether the whole state after a reset was read: only then may keys missing from it leave.
  bool state_read = false;
  if (added.state_reset()) {
    // Until the roomserver says more, the event's own entry (a reset always includes it).
    if (event.state_key) adds = {event.event_id};
    // The whole state after the event, from the roomserver; every key syncapi has that is not in
    // it leaves the state (below).
    if (state_events_ == nullptr) {
      logging::Warn("syncapi.state_reset_unreadable", {{"room_id", event.room_id}});
    } else {
      absl::StatusOr<std::vector<std::string>> after =
          state_events_->StateAfter(event.room_id, event.event_id, added.current_state_group());
      if (after.ok()) {
        adds = *std::move(after);
        state_read = true;
      } else if (!roomserver::LookupMayRecover(after.status())) {
        // Retrying cannot help: the message is applied with what it carries.
        logging::Warn("syncapi.state_reset_unreadable",
                      {{"room_id", event.room_id}, {"error", after.status()}});
      } else {
        return after.status();  // retried in place
      }
    }
  }
  for (const std::string& id : removes) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<SyncEvent> removed, key_of(id));
    if (!removed || !removed->state_key) continue;  // never seen here: nothing to take out
    updates[{removed->type, *removed->state_key}] =
        StateUpdate{removed->type, *removed->state_key, std::nullopt, ""};
  }
  bool unknown_add = false;
  std::vector<std::string> never_sent;
  for (const std::string& id : adds) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<SyncEvent> entering, key_of(id));
    if (!entering || !entering->state_key) {
      never_sent.push_back(id);
      continue;
    }
    updates[{entering->type, *entering->state_key}] =
        StateUpdate{entering->type, *entering->state_key, id, entering->membership};
  }
  // Events the roomserver never sent on the stream (the outliers of a federated join's state,
  // soft-failed events merged back): asked of the roomserver, and kept as state-only events.
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<StateUpdate> fetched,
                             StateOnlyUpdates(event.room_id, never_sent));
  std::set<std::string> found;
  for (StateUpdate& update : fetched) {
    found.insert(*update.event_id);
    updates[{update.type, update.state_key}] = std::move(update);
  }
  for (const std::string& id : never_sent) {
    if (found.contains(id)) continue;
    logging::Warn("syncapi.state_event_unknown", {{"room_id", event.room_id}, {"event_id", id}});
    unknown_add = true;
  }
  if (added.state_reset()) {
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<SyncEvent> current, store_.CurrentState(event.room_id));
    for (const SyncEvent& e : current) {
      if (!e.state_key) continue;
      auto it = updates.find({e.type, *e.state_key});
      if (it == updates.end()) {
        if (state_read && !unknown_add) {
          updates[{e.type, *e.state_key}] = StateUpdate{e.type, *e.state_key, std::nullopt, ""};
        }
      } else if (it->second.event_id == e.event_id) {
        // Unchanged: a reset names the whole state, most of which (after a peek, all but the
        // joiner's own key) the room already had. Rewriting it would date it to this event and
        // send it to every client again as if it had changed.
        updates.erase(it);
      }
    }
  }
  std::vector<StateUpdate> out;
  for (auto& [key, update] : updates) {
    // An unknown entering event's key is unknown too: it may be the key of a removal (a
    // soft-failed event the roomserver never sent, merged back into the state). Keeping the old
    // entry is stale; deleting it could take a joined member out of the room.
    if (unknown_add && !update.event_id) continue;
    out.push_back(std::move(update));
  }
  return out;
}

absl::StatusOr<std::vector<StateUpdate>> OutputConsumer::StateOnlyUpdates(
    const std::string& room_id, const std::vector<std::string>& event_ids) {
  std::vector<StateUpdate> out;
  if (state_events_ == nullptr || event_ids.empty()) return out;
  for (size_t start = 0; start < event_ids.size(); start += roomserver::kLookupBatch) {
    std::vector<std::string> batch(
        event_ids.begin() + start,
        event_ids.begin() + std::min(event_ids.size(), start + roomserver::kLookupBatch));
    absl::StatusOr<std::vector<roomserver::LookedUpEvent>> events =
        state_events_->EventsById(batch);
    if (!events.ok()) {
      if (roomserver::LookupMayRecover(events.status())) return events.status();  // retried
      // An answer that will not change: the batch stays unknown (nothing is taken out for it)
      // rather than hold up the stream for every room.
      logging::Warn("syncapi.state_events_unreadable",
                    {{"room_id", room_id}, {"error", events.status()}});
      continue;
    }
    for (roomserver::LookedUpEvent& found : *events) {
      if (found.room_id != room_id) continue;
      absl::StatusOr<matrix::Json> pdu = matrix::ParseJson(found.event_json);
      if (!pdu.ok() || !pdu->is_object()) continue;
      const matrix::Json& key = matrix::JsonField(*pdu, "state_key");
      if (!key.is_string()) continue;
      StateUpdate update;
      update.type = matrix::StringField(*pdu, "type");
      update.state_key = key.get<std::string>();
      update.event_id = found.event_id;
      if (update.type == "m.room.member") {
        update.membership = matrix::StringField(matrix::ContentOf(*pdu), "membership");
      }
      update.state_only_sender = matrix::StringField(*pdu, "sender");
      update.state_only_json = std::move(found.event_json);
      out.push_back(std::move(update));
    }
  }
  return out;
}

stream::Outcome OutputConsumer::HandleEvent(const roomserver::v1::OutputEvent& output_event) {
  const roomserver::v1::OutputEvent* output = &output_event;
  const roomserver::v1::NewRoomEvent& added = output->new_room_event();
  absl::StatusOr<matrix::Json> pdu = matrix::ParseJson(added.event_json());
  if (!pdu.ok() || !pdu->is_object()) return stream::Outcome::Term("unparseable event");

  SyncEvent event;
  event.event_id = added.event_id();
  event.room_id = output->room_id();
  event.type = matrix::StringField(*pdu, "type");
  if (const matrix::Json& key = matrix::JsonField(*pdu, "state_key"); key.is_string()) {
    event.state_key = key.get<std::string>();
  }
  event.sender = matrix::StringField(*pdu, "sender");
  event.event_json = added.event_json();
  event.device_id = added.device_id();
  event.txn_id = added.transaction_id();
  if (event.type == "m.room.member") {
    event.membership = matrix::StringField(matrix::ContentOf(*pdu), "membership");
  }
  absl::StatusOr<std::vector<StateUpdate>> state = RetryInPlace<std::vector<StateUpdate>>(
      "syncapi.state_lookup_failed", [&] { return StateUpdatesOf(added, event); });
  if (!state.ok()) return stream::Outcome::Nak(absl::Seconds(1));  // stopping

  for (const StateUpdate& update : *state) {
    if (update.event_id != event.event_id) event.merges_state = true;
  }
  if (event.type == "m.room.redaction") {
    // The target first: readers wait for the room's applied sequence (read your writes), which
    // storing the redaction advances, so a read in between would show the target whole. Also
    // on a redelivery (a crash may have come between the two): redacting again gives the same
    // bytes.
    absl::StatusOr<bool> redacted = RetryInPlace<bool>("syncapi.redaction_apply_failed", [&] {
      return ApplyRedaction(*pdu, event, added.redacted_event_id(), added.room_version());
    });
    if (!redacted.ok()) return stream::Outcome::Nak(absl::Seconds(1));  // stopping
  }
  absl::StatusOr<std::optional<int64_t>> pos = ApplyInPlace("syncapi.apply_failed", [&] {
    return store_.ApplyEvent(event, *state, output->room_sequence());
  });
  if (!pos.ok()) return stream::Outcome::Nak(absl::Seconds(1));  // stopping
  if (!pos->has_value()) return stream::Outcome::Ack();          // a redelivery

  absl::StatusOr<std::vector<std::string>> users = RetryInPlace<std::vector<std::string>>(
      "syncapi.wake_lookup_failed", [&] { return store_.JoinedUsers(event.room_id); });
  // Peeking devices are woken by every event of the room too.
  absl::StatusOr<std::vector<std::string>> peekers = RetryInPlace<std::vector<std::string>>(
      "syncapi.wake_lookup_failed", [&] { return store_.PeekingUsers(event.room_id); });
  if (!users.ok() || !peekers.ok()) return stream::Outcome::Nak(absl::Seconds(1));  // stopping
  std::vector<std::string> wake = *users;
  wake.insert(wake.end(), peekers->begin(), peekers->end());
  metrics_.WokenForPeeks(static_cast<int64_t>(peekers->size()));
  if (event.type == "m.room.member" && event.state_key) wake.push_back(*event.state_key);
  notifier_.Wake(wake, **pos);
  return stream::Outcome::Ack();
}

}  // namespace periscope::syncapi
