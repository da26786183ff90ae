#include "internal/federationapi/inbound/joins.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "internal/federationapi/inbound/pdu_checks.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/server_acl.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;

absl::Status Forbidden(absl::string_view why) {
  return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden, why);
}
absl::Status BadJson(absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson, why);
}

}  // namespace

absl::StatusOr<int> JoinHandler::RoomFor(const std::string& origin, const std::string& room_id) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(room_id));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, rooms_.RoomVersion(room_id));
  if (!version) {
    return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                       absl::StrCat("Room ", room_id, " is not known here"));
  }
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json acl, rooms_.ServerAcl(room_id));
  if (acl.is_object() && !matrix::ServerAllowedByAcl(acl, origin)) {
    return Forbidden("The room's server ACL denies this server");
  }
  return *version;
}

absl::StatusOr<matrix::Json> JoinHandler::MakeJoin(
    const std::string& origin, const std::string& room_id, const std::string& user_id,
    const std::vector<std::string>& supported_versions) {
  return Make(origin, room_id, user_id, "join", &supported_versions);
}

absl::StatusOr<matrix::Json> JoinHandler::MakeLeave(const std::string& origin,
                                                    const std::string& room_id,
                                                    const std::string& user_id) {
  return Make(origin, room_id, user_id, "leave", nullptr);
}

absl::StatusOr<matrix::Json> JoinHandler::Make(const std::string& origin,
                                               const std::string& room_id,
                                               const std::string& user_id,
                                               const std::string& membership,
                                               const std::vector<std::string>* supported_versions) {
  PERISCOPE_ASSIGN_OR_RETURN(matrix::SigilId user, matrix::ParseSigilId(user_id, '@'));
  if (user.server_name != origin) {
    return Forbidden(absl::StrCat("A server can only make ", membership, "s for its own users"));
  }
  PERISCOPE_ASSIGN_OR_RETURN(int version, RoomFor(origin, room_id));
  const std::string version_name = absl::StrCat(version);
  // No ?ver= at all means the requester speaks room version 1 only (the spec's default). A leave
  // needs no negotiation: the leaving server was in the room.
  if (supported_versions != nullptr &&
      std::find(supported_versions->begin(), supported_versions->end(), version_name) ==
          supported_versions->end()) {
    // The spec's error body names the room's version.
    return WithMatrixErrorFields(
        MatrixError(absl::StatusCode::kInvalidArgument, errcode::kIncompatibleRoomVersion,
                    absl::StrCat("The room's version is ", version_name,
                                 ", which the joining server does not support")),
        matrix::Json{{"room_version", version_name}}.dump());
  }
  PERISCOPE_ASSIGN_OR_RETURN(roomserver::v1::QueryMembershipTemplateResponse made,
                             rooms_.MembershipTemplate(room_id, user_id, membership));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json event, matrix::ParseJson(made.event_json()));
  return matrix::Json{{"event", std::move(event)}, {"room_version", made.room_version()}};
}

absl::StatusOr<matrix::Json> JoinHandler::SendJoin(const std::string& origin,
                                                   const std::string& room_id,
                                                   const std::string& event_id,
                                                   const std::string& body) {
  return Send(origin, room_id, event_id, body, "join");
}

absl::StatusOr<matrix::Json> JoinHandler::SendLeave(const std::string& origin,
                                                    const std::string& room_id,
                                                    const std::string& event_id,
                                                    const std::string& body) {
  return Send(origin, room_id, event_id, body, "leave");
}

absl::StatusOr<matrix::Json> JoinHandler::Send(const std::string& origin,
                                               const std::string& room_id,
                                               const std::string& event_id, const std::string& body,
                                               const std::string& membership) {
  PERISCOPE_ASSIGN_OR_RETURN(int version, RoomFor(origin, room_id));
  absl::StatusOr<matrix::Json> pdu = matrix::ParseJson(body, {.max_bytes = matrix::kMaxEventBytes});
  if (!pdu.ok()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kNotJson,
                       "The body is not JSON");
  }
  if (!pdu->is_object()) return BadJson("The body is not a JSON object");
  // What it must be, before any key is fetched for it: the sender's own join, from its server.
  const std::string sender = matrix::StringField(*pdu, "sender");
  absl::StatusOr<matrix::SigilId> user = matrix::ParseSigilId(sender, '@');
  if (!user.ok() || user->server_name != origin) {
    return Forbidden(absl::StrCat("A server can only send ", membership, "s of its own users"));
  }
  if (matrix::StringField(*pdu, "type") != "m.room.member" ||
      matrix::StringField(*pdu, "state_key") != sender ||
      matrix::StringField(matrix::ContentOf(*pdu), "membership") != membership) {
    return BadJson(absl::StrCat("The event is not the sender's own ", membership));
  }
  // Answered only where make_* would be: in a room none of our users is in any more, what we know
  // may be stale, and a join would be answered with that stale state (404, as make_*). Whether
  // the auth rules allow it is the input's to say below, so that a retried send_leave (its user
  // gone already) is answered again rather than refused.
  // A join the rules refuse now is refused here too (the template's checks include a restricted
  // room's allowed rooms, which the auth rules do not see).
  absl::StatusOr<roomserver::v1::QueryMembershipTemplateResponse> made =
      rooms_.MembershipTemplate(room_id, sender, membership);
  if (!made.ok() && (membership == "join" || !absl::IsPermissionDenied(made.status()))) {
    return made.status();
  }
  // A restricted join (room versions 8+) names the user who vouches for it, whose server must
  // sign it (auth rule 4.2). As Synapse: we sign one that names one of our users, before the
  // checks (only the signature is added; the id stays), and refuse one that names another
  // server's user, which we cannot sign. The roomserver's auth rules then check that the named
  // user may invite, where the room needs a vouch; the template check above has checked the
  // allowed rooms.
  const std::string authoriser =
      matrix::StringField(matrix::ContentOf(*pdu), "join_authorised_via_users_server");
  if (membership == "join" && version >= 8 && !authoriser.empty()) {
    absl::StatusOr<matrix::SigilId> vouching = matrix::ParseSigilId(authoriser, '@');
    if (!vouching.ok() || vouching->server_name != our_server_name_) {
      return BadJson(absl::StrCat("This server can only vouch for joins with its own users; ",
                                  authoriser, " is not one"));
    }
    PERISCOPE_ASSIGN_OR_RETURN(
        *pdu, matrix::AddEventSignature(*std::move(pdu), our_server_name_, key_, version));
  }
  PERISCOPE_ASSIGN_OR_RETURN(CheckedPdu checked, CheckRequestPdu(*pdu, version, keyring_));
  if (checked.event_id != event_id) {
    return BadJson(absl::StrCat("The event's id is ", checked.event_id, ", not ", event_id));
  }
  if (checked.room_id != room_id) return BadJson("The event belongs to another room");
  const matrix::Json& event = checked.event;

  roomserver::v1::InputRoomEventsRequest input;
  roomserver::v1::InputRoomEvent* in = input.add_events();
  in->set_kind(roomserver::v1::INPUT_KIND_NEW);
  PERISCOPE_ASSIGN_OR_RETURN(std::string canonical, matrix::EncodeCanonicalJson(event));
  in->set_event_json(canonical);
  in->set_origin(origin);
  in->set_send_on_behalf_of(origin);
  PERISCOPE_ASSIGN_OR_RETURN(roomserver::v1::InputRoomEventsResponse result, rooms_.Input(input));
  for (const auto& [id, why] : result.rejected()) {
    return Forbidden(absl::StrCat("The ", membership, " is not allowed: ", why));
  }
  for (const auto& [id, why] : result.not_processed()) {
    return BadJson(absl::StrCat("The ", membership, " cannot be placed (build it from make_",
                                membership, "): ", why));
  }
  if (result.soft_failed_event_ids_size() > 0) {
    return Forbidden(
        absl::StrCat("The ", membership, " is not allowed by the room's current state"));
  }
  // send_leave v2 answers an empty object.
  if (membership != "join") return matrix::Json::object();
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json answer, reads_.StateAtJoin(room_id, event_id, version));
  answer["origin"] = our_server_name_;
  answer["event"] = event;
  answer["members_omitted"] = false;
  return answer;
}

}  // namespace periscope::federationapi
