#include "internal/syncapi/consumer/output_consumer.h"

#include <algorithm>

#include "internal/roomserver/output/output_messages.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/client_event.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {

absl::StatusOr<std::unique_ptr<OutputConsumer>> OutputConsumer::Start(const config::Config& config,
                                                                      stream::JetStream& js,
                                                                      SyncStore& store,
                                                                      Notifier& notifier,
                                                                      PeekMetrics& metrics) {
  // Declaring the stream here too lets syncapi start before the roomserver.
  stream::StreamSpec spec = roomserver::OutputStreamSpec(config);
  PERISCOPE_RETURN_IF_ERROR(js.DeclareStream(spec));
  stream::PullConsumerOptions options;
  options.spec.stream = spec.name;
  options.spec.durable = "syncapi";
  PERISCOPE_RETURN_IF_ERROR(js.DeclareConsumer(options.spec));
  auto consumer = std::unique_ptr<OutputConsumer>(new OutputConsumer(store, notifier, metrics));
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

absl::StatusOr<std::optional<int64_t>> OutputConsumer::RetryInPlace(
    absl::string_view what, const std::function<absl::StatusOr<std::optional<int64_t>>()>& apply) {
  while (true) {
    absl::StatusOr<std::optional<int64_t>> result = apply();
    if (result.ok()) return result;
    logging::Warn(what, {{"error", result.status()}});
    if (stopping_.WaitForNotificationWithTimeout(absl::Seconds(1))) return result.status();
  }
}

absl::Status OutputConsumer::ApplyRedaction(const matrix::Json& redaction, const SyncEvent& event,
                                            absl::string_view room_version) {
  int version = 10;
  if (!room_version.empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(version, matrix::ParseRoomVersion(room_version));
  }
  // v11 moved "redacts" into the content.
  std::string target_id = matrix::StringField(redaction, "redacts");
  if (target_id.empty()) target_id = matrix::StringField(matrix::ContentOf(redaction), "redacts");
  if (target_id.empty()) return absl::OkStatus();
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<SyncEvent> target,
                             store_.EventInRoom(event.room_id, target_id));
  if (!target) return absl::OkStatus();  // unknown to us: nothing to redact
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json pdu, matrix::ParseJson(target->event_json));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json redacted, matrix::RedactEvent(pdu, version));
  redacted["unsigned"]["redacted_because"] = matrix::ClientEventFromPdu(redaction, event.event_id);
  PERISCOPE_ASSIGN_OR_RETURN(std::string json, matrix::EncodeCanonicalJson(redacted));
  return store_.StoreRedacted(event.room_id, target_id, json).status();
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
  absl::StatusOr<std::optional<int64_t>> pos;
  std::string user_id;
  if (output.has_new_peek()) {
    const roomserver::v1::NewPeek& peek = output.new_peek();
    user_id = peek.user_id();
    pos =
        store_.StartPeek(output.room_id(), peek.user_id(), peek.device_id(), peek.peek_expiry_ts());
  } else {
    const roomserver::v1::RetirePeek& peek = output.retire_peek();
    user_id = peek.user_id();
    pos = store_.EndPeek(output.room_id(), peek.user_id(), peek.device_id(),
                         ReasonName(peek.reason()));
  }
  if (!pos.ok()) {
    logging::Warn("syncapi.peek_apply_failed",
                  {{"room_id", output.room_id()}, {"error", pos.status()}});
    return stream::Outcome::Nak(absl::Seconds(1));
  }
  if (!pos->has_value()) return stream::Outcome::Ack();  // a renewal or a redelivery
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
  if (output->has_new_peek() || output->has_retire_peek()) return HandlePeek(*output);
  if (!output->has_new_room_event()) return stream::Outcome::Ack();  // federated peeks: later
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
  const auto& adds = added.adds_state_event_ids();
  const bool enters_state = std::find(adds.begin(), adds.end(), added.event_id()) != adds.end();

  absl::StatusOr<std::optional<int64_t>> pos =
      RetryInPlace("syncapi.apply_failed", [&] { return store_.ApplyEvent(event, enters_state); });
  if (!pos.ok()) return stream::Outcome::Nak(absl::Seconds(1));  // stopping
  if (!pos->has_value()) return stream::Outcome::Ack();          // a redelivery
  if (event.type == "m.room.redaction") {
    if (absl::Status s = ApplyRedaction(*pdu, event, added.room_version()); !s.ok()) {
      // The redaction itself is stored; its target keeps its content. Logged, not retried: the
      // same failure would recur.
      logging::Warn("syncapi.redaction_not_applied", {{"event_id", event.event_id}, {"error", s}});
    }
  }

  absl::StatusOr<std::vector<std::string>> users = store_.JoinedUsers(event.room_id);
  std::vector<std::string> wake = users.ok() ? *users : std::vector<std::string>();
  // Peeking devices are woken by every event of the room too.
  absl::StatusOr<std::vector<std::string>> peekers = store_.PeekingUsers(event.room_id);
  if (peekers.ok()) {
    wake.insert(wake.end(), peekers->begin(), peekers->end());
    metrics_.WokenForPeeks(static_cast<int64_t>(peekers->size()));
  }
  if (event.type == "m.room.member" && event.state_key) wake.push_back(*event.state_key);
  notifier_.Wake(wake, **pos);
  return stream::Outcome::Ack();
}

}  // namespace periscope::syncapi
