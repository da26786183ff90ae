#include "internal/federationapi/outbound/room_inviter.h"

#include "absl/strings/str_cat.h"
#include "internal/federationapi/inbound/pdu_checks.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;
using matrix::Json;

constexpr absl::Duration kInviteTimeout = absl::Seconds(30);

absl::Status BadAnswer(const std::string& server, absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnavailable, errcode::kUnknown,
                     absl::StrCat(server, " answered the invite wrongly: ", why));
}

}  // namespace

absl::StatusOr<std::string> RoomInviter::Invite(const v1::PerformInviteRequest& request) {
  PERISCOPE_ASSIGN_OR_RETURN(int version, matrix::ParseRoomVersion(request.room_version()));
  PERISCOPE_ASSIGN_OR_RETURN(Json event, matrix::ParseJson(request.event_json()));
  if (!event.is_object() || matrix::StringField(event, "type") != "m.room.member" ||
      matrix::StringField(matrix::ContentOf(event), "membership") != "invite" ||
      matrix::StringField(event, "room_id") != request.room_id()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       "the event is not an invite into the room");
  }
  PERISCOPE_ASSIGN_OR_RETURN(matrix::SigilId invitee,
                             matrix::ParseSigilId(matrix::StringField(event, "state_key"), '@'));
  const std::string& server = invitee.server_name;
  PERISCOPE_ASSIGN_OR_RETURN(std::string event_id, matrix::ComputeEventId(event, version));

  Json stripped = Json::array();
  for (const std::string& text : request.invite_room_state_json()) {
    absl::StatusOr<Json> one = matrix::ParseJson(text);
    if (one.ok() && one->is_object()) stripped.push_back(*std::move(one));
  }
  Json body = {{"room_version", request.room_version()},
               {"event", event},
               {"invite_room_state", std::move(stripped)}};
  const std::string target =
      absl::StrCat("/_matrix/federation/v2/invite/", federation::EncodePathArg(request.room_id()),
                   "/", federation::EncodePathArg(event_id));
  PERISCOPE_ASSIGN_OR_RETURN(federation::FederationResponse answer,
                             federation_.Call(server, "PUT", target, body, kInviteTimeout));
  if (!answer.ok()) return federation::RemoteErrorStatus(server, answer);

  // Their copy must be our event (same id: nothing the id covers changed) signed by them; only
  // their signature is taken from it.
  const Json& returned = matrix::JsonField(answer.body, "event");
  if (!returned.is_object() || matrix::ComputeEventId(returned, version).value_or("") != event_id) {
    return BadAnswer(server, "the signed invite is not the event sent");
  }
  if (absl::Status s = VerifyServerSignature(returned, server, version, keyring_); !s.ok()) {
    return BadAnswer(server, s.message());
  }
  event["signatures"][server] = returned.at("signatures").at(server);

  roomserver::v1::InputRoomEventsRequest input;
  roomserver::v1::InputRoomEvent* in = input.add_events();
  in->set_kind(roomserver::v1::INPUT_KIND_NEW);
  PERISCOPE_ASSIGN_OR_RETURN(*in->mutable_event_json(), matrix::EncodeCanonicalJson(event));
  in->set_origin(our_server_name_);
  PERISCOPE_ASSIGN_OR_RETURN(roomserver::v1::InputRoomEventsResponse result, rooms_.Input(input));
  for (const auto& [id, why] : result.rejected()) {
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                       absl::StrCat("The invite is not allowed: ", why));
  }
  for (const auto& [id, why] : result.not_processed()) {
    return MatrixError(absl::StatusCode::kUnavailable, errcode::kUnknown,
                       absl::StrCat("The invite could not be placed: ", why));
  }
  if (result.soft_failed_event_ids_size() > 0) {
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                       "The room's current state no longer allows the invite");
  }
  return event_id;
}

}  // namespace periscope::federationapi
