#include "internal/roomserver/perform/membership_template.h"

#include "absl/strings/str_cat.h"
#include "internal/roomserver/perform/restricted_join.h"
#include "internal/roomserver/state/room_dag.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

absl::StatusOr<v1::QueryMembershipTemplateResponse> MembershipTemplate::Build(
    const v1::QueryMembershipTemplateRequest& request) {
  if (request.membership() != "join" && request.membership() != "leave") {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam,
                       "only join and leave templates are made");
  }
  PERISCOPE_RETURN_IF_ERROR(matrix::ParseSigilId(request.user_id(), '@').status());
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  matrix::ProtoEvent proto;
  proto.room_id = request.room_id();
  proto.sender = request.user_id();
  proto.type = "m.room.member";
  proto.state_key = request.user_id();
  proto.content = {{"membership", request.membership()}};

  // Only a server in the room may build on it: one whose users all left knows a stale DAG.
  PERISCOPE_ASSIGN_OR_RETURN(bool in_room,
                             store_.HasJoinedMemberOf(request.room_id(), writer_.server_name()));
  if (!in_room) {
    return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                       absl::StrCat("This server is not in room ", request.room_id()));
  }
  if (request.membership() == "join") {
    // A restricted room: one of our users who may invite vouches for the join (we sign it at
    // send_join); refused here if the user is in none of the allowed rooms.
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> authoriser,
                               RestrictedJoinAuthoriser(store_, request.room_id(),
                                                        request.user_id(), writer_.server_name()));
    if (authoriser) proto.content["join_authorised_via_users_server"] = *authoriser;
  }
  v1::QueryMembershipTemplateResponse response;
  // Only reads: the write lock gives a consistent view of extremities and state, and the empty
  // transaction commits nothing.
  absl::Status read = store_.Write(request.room_id(), [&](RoomWriteTxn& txn) -> absl::Status {
    RoomDag dag(txn, request.room_id());
    PERISCOPE_ASSIGN_OR_RETURN(DraftEvent draft, writer_.Draft(txn, dag, proto));
    if (absl::Status allowed =
            matrix::CheckAuthRules(draft.built.event, draft.auth_state, txn.room_version());
        !allowed.ok()) {
      return MatrixError(
          absl::StatusCode::kPermissionDenied, matrix::errcode::kForbidden,
          absl::StrCat("You are not invited to this room or it refuses you: ", allowed.message()));
    }
    matrix::Json event = std::move(draft.built.event);
    event.erase("hashes");
    event.erase("signatures");
    PERISCOPE_ASSIGN_OR_RETURN(std::string json, matrix::EncodeCanonicalJson(event));
    response.set_event_json(std::move(json));
    response.set_room_version(absl::StrCat(txn.room_version()));
    return absl::OkStatus();
  });
  if (absl::IsNotFound(read)) {
    return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                       absl::StrCat("Room ", request.room_id(), " is not known here"));
  }
  PERISCOPE_RETURN_IF_ERROR(read);
  return response;
}

}  // namespace periscope::roomserver
