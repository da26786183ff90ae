#include "internal/federationsender/consumer/output_consumer.h"

#include <algorithm>

#include "internal/roomserver/api/output_stream.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/history_visibility.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationsender {

absl::StatusOr<std::unique_ptr<OutputConsumer>> OutputConsumer::Start(
    const config::Config& config, stream::JetStream& js, QueueStore& store, NotifyFn notify,
    roomserver::EventLookup* lookup,
    std::function<void(const std::string& room_id)> peekers_changed) {
  stream::StreamSpec spec = roomserver::OutputStreamSpec(config);
  PERISCOPE_RETURN_IF_ERROR(js.DeclareStream(spec));
  stream::PullConsumerOptions options;
  options.spec.stream = spec.name;
  options.spec.durable = "federationsender";
  PERISCOPE_RETURN_IF_ERROR(js.DeclareConsumer(options.spec));
  auto consumer = std::make_unique<OutputConsumer>(config.server_name, store, std::move(notify));
  consumer->set_lookup(lookup);
  consumer->set_peekers_changed(std::move(peekers_changed));
  OutputConsumer* self = consumer.get();
  PERISCOPE_ASSIGN_OR_RETURN(
      consumer->consumer_,
      stream::PullConsumer::Start(js, options,
                                  [self](const stream::Message& m) { return self->Handle(m); }));
  return consumer;
}

OutputConsumer::~OutputConsumer() {
  stopping_.Notify();
  if (consumer_) consumer_->Stop();
}

namespace {

// What a state event in the room's current state means for the queue: a membership change, or the
// end of inbound peeks (MSC2444: peeking needs world_readable history and no encryption; a server
// ACL ends the peeks of the servers it denies).
void NoteStateEffects(const matrix::Json& event, RoomEventToQueue& out) {
  const std::string type = matrix::StringField(event, "type");
  if (type == "m.room.member") {
    std::string user_id = matrix::StringField(event, "state_key");
    absl::StatusOr<matrix::UserIdParts> user = matrix::ParseUserId(user_id);
    if (user.ok()) {
      out.memberships.push_back(
          {user_id, user->server_name,
           matrix::StringField(matrix::ContentOf(event), "membership") == "join"});
    }
    return;
  }
  if (!event.contains("state_key") || !matrix::StringField(event, "state_key").empty()) return;
  if (type == "m.room.encryption" ||
      (type == "m.room.history_visibility" &&
       !matrix::NonMemberMaySeeEvent(matrix::ParseHistoryVisibility(
           matrix::StringField(matrix::ContentOf(event), "history_visibility"))))) {
    out.ends_inbound_peeks = true;
  }
  if (type == "m.room.server_acl") out.new_server_acl_json = matrix::ContentOf(event).dump();
}

}  // namespace

absl::StatusOr<RoomEventToQueue> OutputConsumer::ToQueue(const roomserver::v1::OutputEvent& output,
                                                         const std::string& our_server_name) {
  const roomserver::v1::NewRoomEvent& added = output.new_room_event();
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json event, matrix::ParseJson(added.event_json()));
  RoomEventToQueue out;
  out.room_id = output.room_id();
  out.room_sequence = output.room_sequence();
  out.event_id = added.event_id();
  out.event_json = added.event_json();
  out.committed_ts = output.committed_ts();
  absl::StatusOr<matrix::UserIdParts> sender =
      matrix::ParseUserId(matrix::StringField(event, "sender"));
  // Ours to send: a local user's event. An event that came over federation is its origin's,
  // unless its origin sent it to the room through us (send_join): then it goes to the room's
  // other servers.
  out.send = !added.from_federation() && sender.ok() && sender->server_name == our_server_name;
  if (sender.ok()) out.origin = sender->server_name;
  if (!added.send_on_behalf_of().empty()) {
    out.send = true;
    out.not_to = added.send_on_behalf_of();
  }
  // A state given whole (state_reset) includes the event itself.
  const bool entered_state =
      added.state_reset() ||
      std::find(added.adds_state_event_ids().begin(), added.adds_state_event_ids().end(),
                added.event_id()) != added.adds_state_event_ids().end();
  if (entered_state) NoteStateEffects(event, out);
  return out;
}

absl::Status OutputConsumer::MergedState(const std::string& room_id,
                                         const roomserver::v1::NewRoomEvent& added,
                                         RoomEventToQueue& out) {
  if (lookup_ == nullptr) return absl::OkStatus();
  std::vector<std::string> adds(added.adds_state_event_ids().begin(),
                                added.adds_state_event_ids().end());
  if (added.state_reset()) {
    // The whole state after the event: its member events say who is in the room.
    absl::StatusOr<std::vector<std::string>> after =
        lookup_->StateAfter(room_id, added.event_id(), added.current_state_group());
    if (after.ok()) {
      adds = *std::move(after);
    } else if (!roomserver::LookupMayRecover(after.status())) {
      logging::Warn("federationsender.state_reset_unreadable",
                    {{"room_id", room_id}, {"error", after.status()}});
    } else {
      return after.status();  // retried in place
    }
  }
  std::vector<std::string> others;
  for (const std::string& id : adds) {
    if (id != added.event_id()) others.push_back(id);
  }
  for (size_t start = 0; start < others.size(); start += roomserver::kLookupBatch) {
    std::vector<std::string> batch(
        others.begin() + start,
        others.begin() + std::min(others.size(), start + roomserver::kLookupBatch));
    absl::StatusOr<std::vector<roomserver::LookedUpEvent>> events = lookup_->EventsById(batch);
    if (!events.ok()) {
      if (roomserver::LookupMayRecover(events.status())) return events.status();  // retried
      // An answer that will not change: retrying would hold up the stream for every room.
      logging::Warn("federationsender.state_events_unreadable",
                    {{"room_id", room_id}, {"error", events.status()}});
      continue;
    }
    for (const roomserver::LookedUpEvent& found : *events) {
      absl::StatusOr<matrix::Json> event = matrix::ParseJson(found.event_json);
      if (event.ok()) NoteStateEffects(*event, out);
    }
  }
  return absl::OkStatus();
}

stream::Outcome OutputConsumer::Handle(const stream::Message& message) {
  absl::StatusOr<roomserver::v1::OutputEvent> output =
      roomserver::DecodeOutputPayload(message.data);
  if (!output.ok()) {
    logging::Error("federationsender.output_undecodable", {{"error", output.status()}});
    return stream::Outcome::Term("undecodable output event");
  }
  if (output->has_new_inbound_peek()) return Apply(InboundPeekToQueue(*output));
  if (output->has_retire_inbound_peek()) {
    RoomEventToQueue end;
    end.room_id = output->room_id();
    end.room_sequence = output->room_sequence();
    end.inbound_peek_end = InboundPeekEnd{output->retire_inbound_peek().server_name(),
                                          output->retire_inbound_peek().peek_id()};
    return Apply(end);
  }
  if (output->has_new_peek() || output->has_retire_peek()) {
    RoomEventToQueue change;
    change.room_id = output->room_id();
    change.room_sequence = output->room_sequence();
    change.local_peeker =
        output->has_new_peek()
            ? LocalPeekerChange{output->new_peek().user_id(), output->new_peek().device_id(), true}
            : LocalPeekerChange{output->retire_peek().user_id(), output->retire_peek().device_id(),
                                false};
    stream::Outcome outcome = Apply(change);
    // The room's last local peeker may be gone: its outbound peek then ends (DELETE) at once.
    if (output->has_retire_peek() && peekers_changed_) peekers_changed_(output->room_id());
    return outcome;
  }
  if (!output->has_new_room_event()) return stream::Outcome::Ack();
  absl::StatusOr<RoomEventToQueue> queued = ToQueue(*output, our_server_name_);
  if (!queued.ok()) {
    logging::Error("federationsender.output_unreadable",
                   {{"room_id", output->room_id()}, {"error", queued.status()}});
    return stream::Outcome::Term("unreadable event");
  }
  // A merge of branches, or a join over federation, brings in state the stream never carried:
  // its member events say which servers are in the room now, and a visibility, encryption or
  // server ACL merged in ends peeks as if it had been sent.
  while (true) {
    RoomEventToQueue merged;
    absl::Status looked_up = MergedState(output->room_id(), output->new_room_event(), merged);
    if (looked_up.ok()) {
      queued->memberships.insert(queued->memberships.begin(), merged.memberships.begin(),
                                 merged.memberships.end());
      queued->ends_inbound_peeks = queued->ends_inbound_peeks || merged.ends_inbound_peeks;
      if (queued->new_server_acl_json.empty()) {
        queued->new_server_acl_json = std::move(merged.new_server_acl_json);
      }
      break;
    }
    logging::Warn("federationsender.state_lookup_failed",
                  {{"room_id", queued->room_id}, {"error", looked_up}});
    if (stopping_.WaitForNotificationWithTimeout(retry_interval_)) {
      return stream::Outcome::Nak(absl::Seconds(1));
    }
  }
  return Apply(*std::move(queued));
}

RoomEventToQueue OutputConsumer::InboundPeekToQueue(const roomserver::v1::OutputEvent& output) {
  const roomserver::v1::NewInboundPeek& peek = output.new_inbound_peek();
  RoomEventToQueue out;
  out.room_id = output.room_id();
  out.room_sequence = output.room_sequence();
  out.new_inbound_peek =
      InboundPeekRecord{output.room_id(),       peek.server_name(), peek.peek_id(),
                        peek.latest_event_id(), peek.peeked_ts(),   peek.renewal_interval_ms()};
  return out;
}

stream::Outcome OutputConsumer::Apply(const RoomEventToQueue& queued) {
  while (true) {
    absl::StatusOr<std::optional<std::vector<std::string>>> destinations =
        store_.Apply(queued, our_server_name_);
    if (destinations.ok()) {
      if (*destinations && !(*destinations)->empty() && notify_) notify_(**destinations);
      return stream::Outcome::Ack();
    }
    logging::Warn("federationsender.queue_failed",
                  {{"room_id", queued.room_id}, {"error", destinations.status()}});
    if (stopping_.WaitForNotificationWithTimeout(retry_interval_)) {
      return stream::Outcome::Nak(absl::Seconds(1));  // stopping: redelivered after a restart
    }
  }
}

}  // namespace periscope::federationsender
