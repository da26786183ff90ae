#include "internal/roomserver/perform/out_of_band_membership.h"

#include "absl/strings/str_cat.h"
#include "internal/roomserver/output/output_queue.h"
#include "internal/roomserver/perform/event_input.h"
#include "internal/roomserver/state/room_dag.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

namespace errcode = matrix::errcode;
using matrix::Json;

absl::Status Invalid(absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam, why);
}

// The stripped state events (type, state_key, sender, content) among `given`; others are dropped,
// and so is what passes the size bounds (an output message must stay far below NATS's 1 MiB).
Json StrippedState(const v1::InputOutOfBandMembershipRequest& request, size_t limit) {
  Json stripped = Json::array();
  size_t total = 0;
  for (const std::string& text : request.invite_room_state_json()) {
    if (stripped.size() >= limit) break;
    if (text.size() > OutOfBandMembership::kMaxStrippedEventBytes ||
        total + text.size() > OutOfBandMembership::kMaxInviteRoomStateBytes) {
      continue;
    }
    total += text.size();
    absl::StatusOr<Json> event = matrix::ParseJson(text);
    if (!event.ok() || !event->is_object()) continue;
    const Json& type = matrix::JsonField(*event, "type");
    const Json& key = matrix::JsonField(*event, "state_key");
    const Json& sender = matrix::JsonField(*event, "sender");
    const Json& content = matrix::JsonField(*event, "content");
    if (!type.is_string() || !key.is_string() || !sender.is_string() || !content.is_object()) {
      continue;
    }
    stripped.push_back(
        Json{{"type", type}, {"state_key", key}, {"sender", sender}, {"content", content}});
  }
  return stripped;
}

}  // namespace

absl::StatusOr<v1::InputOutOfBandMembershipResponse> OutOfBandMembership::Input(
    const v1::InputOutOfBandMembershipRequest& request) {
  absl::StatusOr<int> version = matrix::ParseRoomVersion(request.room_version());
  if (!version.ok()) {
    return MatrixError(
        absl::StatusCode::kInvalidArgument, errcode::kUnsupportedRoomVersion,
        absl::StrCat("Room version \"", request.room_version(), "\" is not supported"));
  }
  absl::StatusOr<Json> pdu = matrix::ParseJson(request.event_json());
  if (!pdu.ok() || !pdu->is_object()) return Invalid("the event is not a JSON object");
  const std::string membership = matrix::StringField(matrix::ContentOf(*pdu), "membership");
  const std::string target = matrix::StringField(*pdu, "state_key");
  absl::StatusOr<matrix::SigilId> user = matrix::ParseSigilId(target, '@');
  if (matrix::StringField(*pdu, "type") != "m.room.member" ||
      (membership != "invite" && membership != "leave") || !user.ok() ||
      user->server_name != server_name_) {
    return Invalid("only an invite or a leave of a local user is recorded out of band");
  }
  const std::string room_id = matrix::StringField(*pdu, "room_id");
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(room_id));
  PERISCOPE_RETURN_IF_ERROR(matrix::CheckEventSize(*pdu));
  PERISCOPE_ASSIGN_OR_RETURN(std::string event_id, matrix::ComputeEventId(*pdu, *version));

  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> known, store_.RoomVersion(room_id));
  if (known && *known != *version) {
    return Invalid(absl::StrCat("the room's version is ", *known, ", not ", *version));
  }
  if (known) {
    PERISCOPE_ASSIGN_OR_RETURN(bool in_room, store_.HasJoinedMemberOf(room_id, server_name_));
    if (in_room) {
      // The event comes through the room. An invite is checked against the current state before
      // we sign it; reading goes through a write transaction that then rolls back.
      if (membership != "invite") return v1::InputOutOfBandMembershipResponse();
      absl::Status refused;
      absl::Status read = store_.Write(room_id, [&](RoomWriteTxn& txn) -> absl::Status {
        PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents state,
                                   txn.State(matrix::AuthStateKeysFor(*pdu, *version)));
        refused = matrix::CheckAuthRules(*pdu, state, *version);
        return absl::AbortedError("read only");
      });
      if (!absl::IsAborted(read)) PERISCOPE_RETURN_IF_ERROR(read);
      if (!refused.ok()) {
        return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                           absl::StrCat("The room refuses the invite: ", refused.message()));
      }
      return v1::InputOutOfBandMembershipResponse();
    }
  } else {
    absl::Status created = store_.CreateRoom(room_id, *version, absl::ToUnixMillis(clock_.Now()),
                                             [](RoomWriteTxn&) { return absl::OkStatus(); });
    // Two invites into the same new room race to create it; either one's room will do.
    if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
  }

  // Syncapi's copy carries the stripped state; the stored event is the signed one.
  Json told = *pdu;
  if (membership == "invite") {
    told["unsigned"]["invite_room_state"] = StrippedState(request, kMaxInviteRoomState);
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::string canonical, matrix::EncodeCanonicalJson(*pdu));
  PERISCOPE_ASSIGN_OR_RETURN(std::string told_json, matrix::EncodeCanonicalJson(told));
  PERISCOPE_RETURN_IF_ERROR(store_.Write(room_id, [&](RoomWriteTxn& txn) -> absl::Status {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventPlace> stored, txn.Place(event_id));
    if (stored) return absl::OkStatus();  // told already
    AcceptedEvent accepted = AcceptedEventOf(*pdu, event_id, canonical);
    accepted.place.outlier = true;
    RoomDag dag(txn, room_id);
    PERISCOPE_RETURN_IF_ERROR(dag.Append(accepted).status());

    v1::OutputEvent output;
    output.set_room_id(room_id);
    v1::NewRoomEvent* event = output.mutable_new_room_event();
    event->set_event_json(told_json);
    event->set_event_id(event_id);
    event->set_room_version(absl::StrCat(*version));
    event->set_from_federation(true);
    // Syncapi's record of the room: the user's membership is this event's.
    event->add_adds_state_event_ids(event_id);
    return QueueOutput(txn, output);
  }));
  return v1::InputOutOfBandMembershipResponse();
}

}  // namespace periscope::roomserver
