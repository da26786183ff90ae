#include "internal/roomserver/perform/membership_changer.h"

#include "absl/strings/str_cat.h"
#include "internal/roomserver/perform/room_resolver.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
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

absl::StatusOr<bool> MembershipChanger::NeedsRemoteJoin(
    const std::string& room_id, const v1::PerformMembershipRequest& request) {
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(room_id));
  if (!version) return true;
  PERISCOPE_ASSIGN_OR_RETURN(bool in_room,
                             store_.HasJoinedMemberOf(room_id, writer_.server_name()));
  if (in_room) return false;
  // None of our users is in the room: what this server knows of it may be stale (everyone left)
  // or never complete (a join that failed half way), so the join goes through a server that is
  // in it, if there is one to ask.
  if (request.server_names_size() > 0) return true;
  size_t colon = room_id.find(':');
  return colon != std::string::npos && room_id.substr(colon + 1) != writer_.server_name();
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
  if (action == v1::MEMBERSHIP_ACTION_JOIN && remote_ != nullptr) {
    // A room this server is not in: joined through a server that is. Outside any room lock, since
    // the federationapi writes the room's state back through InputRoomEvents.
    PERISCOPE_ASSIGN_OR_RETURN(bool remote, NeedsRemoteJoin(room_id, request));
    if (remote) {
      std::vector<std::string> servers(request.server_names().begin(),
                                       request.server_names().end());
      PERISCOPE_ASSIGN_OR_RETURN(std::string content_json, matrix::EncodeCanonicalJson(content));
      PERISCOPE_ASSIGN_OR_RETURN(std::string event_id,
                                 remote_->Join(room_id, request.sender(), servers, content_json));
      v1::PerformMembershipResponse response;
      response.set_room_id(room_id);
      response.set_event_id(event_id);
      return response;
    }
  }
  matrix::ProtoEvent proto;
  proto.room_id = room_id;
  proto.sender = request.sender();
  proto.type = "m.room.member";
  proto.state_key = target;
  proto.content = std::move(content);

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
