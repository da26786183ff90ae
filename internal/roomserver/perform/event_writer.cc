#include "internal/roomserver/perform/event_writer.h"

#include "absl/strings/str_cat.h"
#include "internal/roomserver/output/output_queue.h"
#include "internal/roomserver/perform/local_peeks.h"
#include "internal/roomserver/state/room_dag.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/client_event.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

namespace {

// An accepted redaction takes effect on the stored target at once (same room only): every read
// of the roomserver, and what it serves over federation, is the redacted form from then on.
// False if there was no such event in the room.
absl::StatusOr<bool> RedactTarget(RoomWriteTxn& txn, const std::string& room_id,
                                  const std::string& target_id, const matrix::BuiltEvent& redaction,
                                  int version) {
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventRecord> target, txn.Event(target_id));
  if (!target || target->room_id != room_id) return false;
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json pdu, matrix::ParseJson(target->event_json));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json redacted, matrix::RedactEvent(pdu, version));
  redacted["unsigned"]["redacted_because"] =
      matrix::ClientEventFromPdu(redaction.event, redaction.event_id);
  PERISCOPE_ASSIGN_OR_RETURN(std::string json, matrix::EncodeCanonicalJson(redacted));
  PERISCOPE_RETURN_IF_ERROR(txn.StoreRedacted(target_id, json));
  return true;
}

}  // namespace

absl::StatusOr<DraftEvent> EventWriter::Draft(RoomWriteTxn& txn, RoomDag& dag,
                                              matrix::ProtoEvent proto) const {
  const int version = txn.room_version();
  if (proto.origin_server_ts == 0) proto.origin_server_ts = absl::ToUnixMillis(clock_.Now());

  // The new event follows the room's forward extremities (the 20 deepest if there are more), and
  // is authorised against the state before it: the resolution of the states after them.
  matrix::Json draft = {{"type", proto.type}, {"sender", proto.sender}, {"content", proto.content}};
  if (proto.state_key) draft["state_key"] = *proto.state_key;
  const std::vector<matrix::StateKey> auth_keys = matrix::AuthStateKeysFor(draft, version);
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<matrix::PrevEvent> extremities, txn.ForwardExtremities());
  std::vector<matrix::PrevEvent> prevs = matrix::ChoosePrevEvents(extremities);
  DraftEvent out;
  if (prevs.size() == extremities.size()) {
    // All of them: the state before is the current state, which the room keeps as rows.
    PERISCOPE_ASSIGN_OR_RETURN(out.state_before, dag.CurrentStateGroup());
    PERISCOPE_ASSIGN_OR_RETURN(out.auth_state, txn.State(auth_keys));
  } else {
    std::vector<std::string> prev_ids;
    for (const matrix::PrevEvent& prev : prevs) prev_ids.push_back(prev.event_id);
    PERISCOPE_ASSIGN_OR_RETURN(out.state_before, dag.StateBefore(prev_ids));
    PERISCOPE_ASSIGN_OR_RETURN(out.auth_state, dag.StateEvents(out.state_before, auth_keys));
  }
  PERISCOPE_ASSIGN_OR_RETURN(out.built, matrix::BuildEvent(proto, out.auth_state, std::move(prevs),
                                                           version, server_name_, key_));
  return out;
}

absl::StatusOr<matrix::BuiltEvent> EventWriter::BuildOutOfRoom(
    matrix::ProtoEvent proto, const matrix::AuthEvents& auth,
    std::vector<matrix::PrevEvent> prev_events, int room_version) const {
  if (proto.origin_server_ts == 0) proto.origin_server_ts = absl::ToUnixMillis(clock_.Now());
  return matrix::BuildEvent(proto, auth, std::move(prev_events), room_version, server_name_, key_);
}

absl::StatusOr<matrix::BuiltEvent> EventWriter::Append(RoomWriteTxn& txn, matrix::ProtoEvent proto,
                                                       const SendOrigin& origin) {
  const int version = txn.room_version();
  const std::string room_id = txn.room_id();
  RoomDag dag(txn, room_id);
  PERISCOPE_ASSIGN_OR_RETURN(DraftEvent draft, Draft(txn, dag, proto));
  const matrix::BuiltEvent& built = draft.built;
  const int64_t before = draft.state_before;
  PERISCOPE_RETURN_IF_ERROR(matrix::CheckAuthRules(built.event, draft.auth_state, version));

  AcceptedEvent accepted;
  accepted.event_id = built.event_id;
  PERISCOPE_ASSIGN_OR_RETURN(accepted.event_json, matrix::EncodeCanonicalJson(built.event));
  accepted.type = proto.type;
  accepted.state_key = proto.state_key;
  accepted.sender = proto.sender;
  accepted.depth = built.event["depth"].get<int64_t>();
  for (const matrix::Json& prev : built.event["prev_events"]) {
    accepted.prev_event_ids.push_back(prev.get<std::string>());
  }
  accepted.membership = matrix::StringField(proto.content, "membership");
  accepted.place.state_before = before;
  PERISCOPE_ASSIGN_OR_RETURN(CurrentStateChange change, dag.Append(accepted));
  // Only a caller that checked the sender may redact sets proto.redacts (EventSender).
  bool redacted = false;
  if (proto.redacts && proto.type == "m.room.redaction") {
    PERISCOPE_ASSIGN_OR_RETURN(redacted,
                               RedactTarget(txn, room_id, *proto.redacts, built, version));
  }

  v1::OutputEvent output;
  output.set_room_id(room_id);
  v1::NewRoomEvent* event = output.mutable_new_room_event();
  event->set_event_json(accepted.event_json);
  event->set_event_id(built.event_id);
  event->set_room_version(absl::StrCat(version));
  for (const std::string& extremity : change.extremities) event->add_latest_event_ids(extremity);
  SetStateChange(*event, change, false);
  if (redacted) event->set_redacted_event_id(*proto.redacts);
  event->set_transaction_id(origin.txn_id);
  event->set_device_id(origin.device_id);
  PERISCOPE_RETURN_IF_ERROR(QueueOutput(txn, output));
  PERISCOPE_RETURN_IF_ERROR(RetirePeeksAfterEvent(txn, room_id, accepted, proto.content));
  return built;
}

absl::StatusOr<std::string> EventWriter::RoomIdNamedBy(const matrix::ProtoEvent& create,
                                                       int room_version) const {
  PERISCOPE_ASSIGN_OR_RETURN(
      matrix::BuiltEvent built,
      matrix::BuildEvent(create, matrix::AuthEvents(), {}, room_version, server_name_, key_));
  return matrix::RoomIdOfCreateEvent(built.event_id);
}

}  // namespace periscope::roomserver
