#include "internal/roomserver/perform/membership_changer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "internal/roomserver/perform/restricted_join.h"
#include "internal/roomserver/perform/room_resolver.h"
#include "internal/roomserver/state/room_dag.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

namespace errcode = matrix::errcode;
using matrix::Json;

absl::Status Forbidden(absl::string_view message) {
  return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden, message);
}

// The membership value each action writes.
absl::StatusOr<std::string> MembershipFor(v1::MembershipAction action) {
  switch (action) {
    case v1::MEMBERSHIP_ACTION_JOIN:
      return "join";
    case v1::MEMBERSHIP_ACTION_LEAVE:
    case v1::MEMBERSHIP_ACTION_KICK:
    case v1::MEMBERSHIP_ACTION_UNBAN:
      return "leave";
    case v1::MEMBERSHIP_ACTION_INVITE:
      return "invite";
    case v1::MEMBERSHIP_ACTION_BAN:
      return "ban";
    default:
      return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                         "unknown membership action");
  }
}

bool ActsOnSelf(v1::MembershipAction action) {
  return action == v1::MEMBERSHIP_ACTION_JOIN || action == v1::MEMBERSHIP_ACTION_LEAVE;
}

}  // namespace

absl::StatusOr<std::optional<std::vector<std::string>>> MembershipChanger::RemoteServersFor(
    const std::string& room_id, const std::string& user_id,
    const v1::PerformMembershipRequest& request) {
  std::vector<std::string> servers;
  auto add = [&](const std::string& server) {
    if (server.empty() || server == writer_.server_name()) return;
    if (std::find(servers.begin(), servers.end(), server) == servers.end()) {
      servers.push_back(server);
    }
  };
  for (const std::string& server : request.server_names()) add(server);
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(room_id));
  // A room never heard of can be joined through others, but not left.
  if (!version) {
    if (request.action() == v1::MEMBERSHIP_ACTION_JOIN) return servers;
    return std::nullopt;
  }
  PERISCOPE_ASSIGN_OR_RETURN(bool in_room,
                             store_.HasJoinedMemberOf(room_id, writer_.server_name()));
  if (in_room) return std::nullopt;
  // None of our users is in the room: what this server knows of it may be stale (everyone left),
  // never complete (a join that failed half way), or only an invite from another server. The
  // change goes through a server that is in it: the given ones, those who invited the user, and
  // (room versions before 12) the room id's own.
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<EventRecord> invites, store_.InvitesOf(room_id, user_id));
  for (const EventRecord& invite : invites) {
    absl::StatusOr<Json> event = matrix::ParseJson(invite.event_json);
    if (!event.ok()) continue;
    absl::StatusOr<matrix::SigilId> inviter =
        matrix::ParseSigilId(matrix::StringField(*event, "sender"), '@');
    if (inviter.ok()) add(inviter->server_name);
  }
  if (size_t colon = room_id.find(':'); colon != std::string::npos) add(room_id.substr(colon + 1));
  if (servers.empty()) return std::nullopt;
  return servers;
}

absl::StatusOr<std::string> MembershipChanger::RejectLocally(const std::string& room_id,
                                                             const std::string& user_id,
                                                             const Json& content) {
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<EventRecord> invites, store_.InvitesOf(room_id, user_id));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(room_id));
  if (invites.empty() || !version || out_of_band_ == nullptr) {
    return Forbidden(absl::StrCat(user_id, " has no invite into ", room_id, " to reject"));
  }
  // The leave follows the newest invite and is authorised by it alone: no other event of the
  // room is known here.
  const EventRecord& invite = invites.front();
  PERISCOPE_ASSIGN_OR_RETURN(Json invite_event, matrix::ParseJson(invite.event_json));
  matrix::AuthEvents auth;
  PERISCOPE_RETURN_IF_ERROR(auth.Add(invite.event_id, invite_event));
  const Json& depth = matrix::JsonField(invite_event, "depth");
  matrix::ProtoEvent proto;
  proto.room_id = room_id;
  proto.sender = user_id;
  proto.type = "m.room.member";
  proto.state_key = user_id;
  proto.content = content;
  PERISCOPE_ASSIGN_OR_RETURN(
      matrix::BuiltEvent leave,
      writer_.BuildOutOfRoom(
          proto, auth, {{invite.event_id, depth.is_number_integer() ? depth.get<int64_t>() : 0}},
          *version));
  v1::InputOutOfBandMembershipRequest record;
  PERISCOPE_ASSIGN_OR_RETURN(*record.mutable_event_json(),
                             matrix::EncodeCanonicalJson(leave.event));
  record.set_room_version(absl::StrCat(*version));
  PERISCOPE_RETURN_IF_ERROR(out_of_band_->Input(record).status());
  return leave.event_id;
}

absl::StatusOr<v1::PerformMembershipResponse> MembershipChanger::InviteRemote(
    const std::string& room_id, const matrix::ProtoEvent& proto) {
  std::string event_json;
  int version = 0;
  std::vector<std::string> stripped;
  absl::Status drafted = store_.Write(room_id, [&](RoomWriteTxn& txn) -> absl::Status {
    version = txn.room_version();
    RoomDag dag(txn, room_id);
    PERISCOPE_ASSIGN_OR_RETURN(DraftEvent draft, writer_.Draft(txn, dag, proto));
    PERISCOPE_RETURN_IF_ERROR(matrix::CheckAuthRules(draft.built.event, draft.auth_state, version));
    PERISCOPE_ASSIGN_OR_RETURN(event_json, matrix::EncodeCanonicalJson(draft.built.event));
    // What the invitee's client shows the room by (spec: stripped state, with the inviter's
    // membership).
    PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents state,
                               txn.State({{"m.room.create", ""},
                                          {"m.room.join_rules", ""},
                                          {"m.room.name", ""},
                                          {"m.room.avatar", ""},
                                          {"m.room.canonical_alias", ""},
                                          {"m.room.encryption", ""},
                                          {"m.room.topic", ""},
                                          {"m.room.member", proto.sender}}));
    for (const auto& [key, entry] : state.entries()) {
      Json one = {{"type", key.first},
                  {"state_key", key.second},
                  {"sender", matrix::StringField(entry.event, "sender")},
                  {"content", matrix::ContentOf(entry.event)}};
      PERISCOPE_ASSIGN_OR_RETURN(std::string text, matrix::EncodeCanonicalJson(one));
      stripped.push_back(std::move(text));
    }
    // Nothing is written here: the invite enters the room once the invitee's server signed it.
    return absl::AbortedError("drafted");
  });
  if (absl::IsNotFound(drafted)) {
    return Forbidden(absl::StrCat(proto.sender, " is not in room ", room_id));
  }
  if (!absl::IsAborted(drafted)) PERISCOPE_RETURN_IF_ERROR(drafted);
  PERISCOPE_ASSIGN_OR_RETURN(std::string event_id,
                             remote_->Invite(room_id, version, event_json, stripped));
  v1::PerformMembershipResponse response;
  response.set_room_id(room_id);
  response.set_event_id(event_id);
  return response;
}

absl::StatusOr<v1::PerformMembershipResponse> MembershipChanger::Change(
    const v1::PerformMembershipRequest& request) {
  const v1::MembershipAction action = request.action();
  PERISCOPE_ASSIGN_OR_RETURN(std::string membership, MembershipFor(action));
  PERISCOPE_RETURN_IF_ERROR(matrix::ParseSigilId(request.sender(), '@').status());
  std::string target = request.target_user_id();
  if (ActsOnSelf(action)) {
    if (!target.empty() && target != request.sender()) {
      return Forbidden("join and leave act on the sender only");
    }
    target = request.sender();
  } else {
    if (target.empty()) {
      return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kMissingParam,
                         "user_id is required");
    }
    PERISCOPE_RETURN_IF_ERROR(matrix::ParseSigilId(target, '@').status());
  }
  Json content = Json::object();
  if (!request.content_json().empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(content, matrix::ParseJson(request.content_json()));
    if (!content.is_object()) {
      return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                         "member content must be a JSON object");
    }
  }
  content["membership"] = membership;
  if (!request.reason().empty()) content["reason"] = request.reason();

  PERISCOPE_ASSIGN_OR_RETURN(std::string room_id,
                             ResolveRoomIdOrAlias(store_, request.room_id_or_alias()));
  if ((action == v1::MEMBERSHIP_ACTION_JOIN || action == v1::MEMBERSHIP_ACTION_LEAVE) &&
      remote_ != nullptr) {
    // A room this server is not in: joined (or an invite rejected) through a server that is.
    // Outside any room lock, since the federationapi writes back through the roomserver's inputs.
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> servers,
                               RemoteServersFor(room_id, target, request));
    if (servers) {
      PERISCOPE_ASSIGN_OR_RETURN(std::string content_json, matrix::EncodeCanonicalJson(content));
      absl::StatusOr<std::string> event_id =
          action == v1::MEMBERSHIP_ACTION_JOIN
              ? remote_->Join(room_id, request.sender(), *servers, content_json)
              : remote_->Leave(room_id, request.sender(), *servers, content_json);
      if (!event_id.ok() && action == v1::MEMBERSHIP_ACTION_LEAVE) {
        // No server in the room could be asked (gone, or it refused: the inviter left, the
        // invite was withdrawn): the invite is rejected here alone, as Synapse does, so that it
        // does not stay in the user's /sync for ever.
        logging::Info("roomserver.invite_rejected_locally",
                      {{"room_id", room_id}, {"error", event_id.status()}});
        event_id = RejectLocally(room_id, request.sender(), content);
      }
      PERISCOPE_RETURN_IF_ERROR(event_id.status());
      v1::PerformMembershipResponse response;
      response.set_room_id(room_id);
      response.set_event_id(*event_id);
      return response;
    }
  }
  if (action == v1::MEMBERSHIP_ACTION_JOIN) {
    // A restricted room: one of our users who may invite vouches for the join.
    PERISCOPE_ASSIGN_OR_RETURN(
        std::optional<std::string> authoriser,
        RestrictedJoinAuthoriser(store_, room_id, target, writer_.server_name()));
    if (authoriser) content["join_authorised_via_users_server"] = *authoriser;
  }
  matrix::ProtoEvent proto;
  proto.room_id = room_id;
  proto.sender = request.sender();
  proto.type = "m.room.member";
  proto.state_key = target;
  proto.content = std::move(content);
  if (action == v1::MEMBERSHIP_ACTION_INVITE && remote_ != nullptr) {
    // A user of another server: their server signs the invite before it enters the room.
    PERISCOPE_ASSIGN_OR_RETURN(matrix::SigilId invitee, matrix::ParseSigilId(target, '@'));
    if (invitee.server_name != writer_.server_name()) return InviteRemote(room_id, proto);
  }

  std::string event_id;
  absl::Status written = store_.Write(room_id, [&](RoomWriteTxn& txn) -> absl::Status {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents current, txn.State({{"m.room.member", target}}));
    std::string target_membership = current.MembershipOf(target);
    if (action == v1::MEMBERSHIP_ACTION_UNBAN && target_membership != "ban") {
      return Forbidden(absl::StrCat(target, " is not banned"));
    }
    if (action == v1::MEMBERSHIP_ACTION_KICK && target_membership != "join" &&
        target_membership != "invite" && target_membership != "knock") {
      return Forbidden(absl::StrCat(target, " is not in the room"));
    }
    PERISCOPE_ASSIGN_OR_RETURN(matrix::BuiltEvent built, writer_.Append(txn, proto));
    event_id = built.event_id;
    return absl::OkStatus();
  });
  if (absl::IsNotFound(written)) {
    if (action == v1::MEMBERSHIP_ACTION_JOIN) {
      return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                         absl::StrCat("No known servers for room ", room_id,
                                      " (joining rooms on other servers is not supported yet)"));
    }
    return Forbidden(absl::StrCat(request.sender(), " is not in room ", room_id));
  }
  PERISCOPE_RETURN_IF_ERROR(written);
  v1::PerformMembershipResponse response;
  response.set_room_id(room_id);
  response.set_event_id(event_id);
  return response;
}

}  // namespace periscope::roomserver
