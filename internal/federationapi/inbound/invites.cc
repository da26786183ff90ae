#include "internal/federationapi/inbound/invites.h"

#include "absl/strings/str_cat.h"
#include "internal/federationapi/inbound/pdu_checks.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/server_acl.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;
using matrix::Json;

absl::Status Forbidden(absl::string_view why) {
  return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden, why);
}
absl::Status BadJson(absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson, why);
}

// The body holds the event and up to 50 stripped state events, each bounded like an event.
constexpr size_t kMaxInviteBodyBytes = 1 << 20;

}  // namespace

absl::StatusOr<Json> InviteHandler::Invite(const std::string& origin, const std::string& room_id,
                                           const std::string& event_id, const std::string& body) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(room_id));
  absl::StatusOr<Json> request = matrix::ParseJson(body, {.max_bytes = kMaxInviteBodyBytes});
  if (!request.ok()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kNotJson,
                       "The body is not JSON");
  }
  if (!request->is_object()) return BadJson("The body is not a JSON object");
  const Json& version_field = matrix::JsonField(*request, "room_version");
  if (!version_field.is_string()) return BadJson("room_version is missing or not a string");
  absl::StatusOr<int> version = matrix::ParseRoomVersion(version_field.get<std::string>());
  if (!version.ok()) {
    return WithMatrixErrorFields(
        MatrixError(absl::StatusCode::kInvalidArgument, errcode::kIncompatibleRoomVersion,
                    absl::StrCat("Room version \"", version_field.get<std::string>(),
                                 "\" is not supported by this server")),
        Json{{"room_version", version_field}}.dump());
  }
  const Json& pdu = matrix::JsonField(*request, "event");
  if (!pdu.is_object()) return BadJson("event is missing or not an object");
  const Json& stripped = matrix::JsonField(*request, "invite_room_state");
  if (!stripped.is_null() && !stripped.is_array()) {
    return BadJson("invite_room_state is not a list");
  }

  // What it must be, before any key is fetched for it: an invite of one of our users, from a
  // user of the requesting server.
  if (matrix::StringField(pdu, "type") != "m.room.member" ||
      matrix::StringField(matrix::ContentOf(pdu), "membership") != "invite") {
    return BadJson("The event is not an invite");
  }
  absl::StatusOr<matrix::SigilId> invitee =
      matrix::ParseSigilId(matrix::StringField(pdu, "state_key"), '@');
  if (!invitee.ok() || invitee->server_name != our_server_name_) {
    return Forbidden("The invited user is not a user of this server");
  }
  absl::StatusOr<matrix::SigilId> sender =
      matrix::ParseSigilId(matrix::StringField(pdu, "sender"), '@');
  if (!sender.ok() || sender->server_name != origin) {
    return Forbidden("A server can only send invites from its own users");
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> known, rooms_.RoomVersion(room_id));
  if (known) {
    PERISCOPE_ASSIGN_OR_RETURN(Json acl, rooms_.ServerAcl(room_id));
    if (acl.is_object() && !matrix::ServerAllowedByAcl(acl, origin)) {
      return Forbidden("The room's server ACL denies this server");
    }
  }
  PERISCOPE_ASSIGN_OR_RETURN(CheckedPdu checked, CheckRequestPdu(pdu, *version, keyring_));
  if (checked.event_id != event_id) {
    return BadJson(absl::StrCat("The event's id is ", checked.event_id, ", not ", event_id));
  }
  if (checked.room_id != room_id) return BadJson("The event belongs to another room");

  PERISCOPE_ASSIGN_OR_RETURN(
      Json signed_event,
      matrix::AddEventSignature(checked.event, our_server_name_, key_, *version));
  roomserver::v1::InputOutOfBandMembershipRequest record;
  PERISCOPE_ASSIGN_OR_RETURN(*record.mutable_event_json(),
                             matrix::EncodeCanonicalJson(signed_event));
  record.set_room_version(version_field.get<std::string>());
  if (stripped.is_array()) {
    for (const Json& one : stripped) {
      if (static_cast<size_t>(record.invite_room_state_json_size()) >= kMaxInviteRoomState) break;
      if (!one.is_object()) continue;
      PERISCOPE_ASSIGN_OR_RETURN(*record.add_invite_room_state_json(),
                                 matrix::EncodeCanonicalJson(one));
    }
  }
  PERISCOPE_RETURN_IF_ERROR(rooms_.OutOfBandMembership(record));
  return Json{{"event", std::move(signed_event)}};
}

}  // namespace periscope::federationapi
