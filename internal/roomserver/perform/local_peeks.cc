#include "internal/roomserver/perform/local_peeks.h"

#include "absl/strings/str_cat.h"
#include "internal/roomserver/output/output_queue.h"
#include "internal/roomserver/perform/room_resolver.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/history_visibility.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

namespace errcode = matrix::errcode;

absl::Status BadState(absl::string_view message) {
  return MatrixError(absl::StatusCode::kFailedPrecondition, errcode::kBadState, message);
}

absl::Status Forbidden(absl::string_view message) {
  return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden, message);
}

absl::Status CheckDevice(const std::string& user_id, const std::string& device_id) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ParseSigilId(user_id, '@').status());
  return matrix::ValidateDeviceId(device_id);
}

absl::Status EnqueueNewPeek(RoomWriteTxn& txn, const std::string& room_id, const LocalPeek& peek) {
  v1::OutputEvent output;
  output.set_room_id(room_id);
  v1::NewPeek* added = output.mutable_new_peek();
  added->set_user_id(peek.user_id);
  added->set_device_id(peek.device_id);
  added->set_peek_expiry_ts(peek.expiry_ts);
  return QueueOutput(txn, output);
}

absl::Status EnqueueRetirePeek(RoomWriteTxn& txn, const std::string& room_id, const LocalPeek& peek,
                               v1::UnpeekReason reason) {
  v1::OutputEvent output;
  output.set_room_id(room_id);
  v1::RetirePeek* retired = output.mutable_retire_peek();
  retired->set_user_id(peek.user_id);
  retired->set_device_id(peek.device_id);
  retired->set_reason(reason);
  return QueueOutput(txn, output);
}

// A federated peek's failure as the client sees it: the remote server's refusal as it was
// (404, 403, 400), an unreachable or unusable server as 502 M_UNKNOWN.
absl::Status PeekFailure(const std::string& room_id, const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
      return status;
    default:
      return MatrixError(
          absl::StatusCode::kUnavailable, errcode::kUnknown,
          absl::StrCat("Could not peek into ", room_id, " through any server: ", status.message()));
  }
}

}  // namespace

absl::Status CheckPeekable(const matrix::AuthEvents& state) {
  const matrix::AuthEvents::Entry* visibility = state.Find("m.room.history_visibility", "");
  const std::string value =
      visibility == nullptr
          ? ""
          : matrix::StringField(matrix::ContentOf(visibility->event), "history_visibility");
  if (!matrix::NonMemberMaySeeEvent(matrix::ParseHistoryVisibility(value))) {
    return Forbidden("This room's history is not world_readable, so it cannot be peeked into");
  }
  if (state.Find("m.room.encryption", "") != nullptr) {
    return Forbidden("This room is encrypted, so it cannot be peeked into");
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> LocalPeeks::PeekOverFederation(const std::string& room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(room_id));
  if (!version) return true;
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<EventRecord> create,
                             store_.CurrentState(room_id, {{"m.room.create", ""}}));
  // Known only from an invite (out of band): no state to peek at.
  if (create.empty()) return true;
  PERISCOPE_ASSIGN_OR_RETURN(bool in_room, store_.HasJoinedMemberOf(room_id, server_name_));
  if (in_room) return false;
  // None of our users is in it: what we hold may be stale (an earlier peek, users who left) and
  // nothing keeps it current, unless it is our own room (then nobody else has more).
  absl::StatusOr<matrix::Json> event = matrix::ParseJson(create.front().event_json);
  absl::StatusOr<matrix::SigilId> creator =
      matrix::ParseSigilId(event.ok() ? matrix::StringField(*event, "sender") : "", '@');
  return !creator.ok() || creator->server_name != server_name_;
}

absl::StatusOr<v1::PerformPeekResponse> LocalPeeks::Peek(const v1::PerformPeekRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(CheckDevice(request.user_id(), request.device_id()));
  PERISCOPE_ASSIGN_OR_RETURN(std::string room_id,
                             ResolveRoomIdOrAlias(store_, request.room_id_or_alias()));
  PERISCOPE_ASSIGN_OR_RETURN(bool over_federation, PeekOverFederation(room_id));
  std::vector<std::string> via(request.server_names().begin(), request.server_names().end());
  absl::StatusOr<matrix::SigilId> id = matrix::ParseSigilId(room_id, '!');
  if (over_federation && via.empty() && id.ok() && id->server_name == server_name_) {
    // Our own room id, and nowhere else to ask.
    return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                       absl::StrCat("Unknown room ", room_id));
  }
  if (over_federation) {
    if (remote_ == nullptr) {
      return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                         absl::StrCat("Room ", room_id,
                                      " is not known here, and peeking into rooms on other "
                                      "servers is not wired in this deployment"));
    }
    absl::StatusOr<std::string> peeked = remote_->Peek(room_id, via);
    if (!peeked.ok()) return PeekFailure(room_id, peeked.status());
  }
  LocalPeek peek{request.user_id(), request.device_id(),
                 absl::ToUnixMillis(clock_.Now() + lifetime_)};
  PERISCOPE_RETURN_IF_ERROR(store_.Write(room_id, [&](RoomWriteTxn& txn) -> absl::Status {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents state,
                               txn.State({{"m.room.history_visibility", ""},
                                          {"m.room.encryption", ""},
                                          {"m.room.member", request.user_id()}}));
    if (const matrix::AuthEvents::Entry* member = state.Find("m.room.member", request.user_id());
        member != nullptr &&
        matrix::StringField(matrix::ContentOf(member->event), "membership") == "join") {
      return BadState("You are joined to this room: there is nothing to peek at");
    }
    PERISCOPE_RETURN_IF_ERROR(CheckPeekable(state));
    PERISCOPE_RETURN_IF_ERROR(txn.PutLocalPeek(peek));
    return EnqueueNewPeek(txn, room_id, peek);
  }));
  v1::PerformPeekResponse response;
  response.set_room_id(room_id);
  response.set_peek_expiry_ts(peek.expiry_ts);
  return response;
}

absl::Status LocalPeeks::Unpeek(const v1::PerformUnpeekRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(CheckDevice(request.user_id(), request.device_id()));
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  const v1::UnpeekReason reason = request.reason() == v1::UNPEEK_REASON_UNSPECIFIED
                                      ? v1::UNPEEK_REASON_CLIENT
                                      : request.reason();
  const int64_t now_ms = absl::ToUnixMillis(clock_.Now());
  absl::Status written = store_.Write(request.room_id(), [&](RoomWriteTxn& txn) -> absl::Status {
    if (reason == v1::UNPEEK_REASON_EXPIRED) {
      // syncapi saw the peek lapse; a PerformPeek that renewed it since (its new_peek is already
      // behind this in the stream) keeps it.
      PERISCOPE_ASSIGN_OR_RETURN(std::vector<LocalPeek> peeks, txn.LocalPeeks());
      for (const LocalPeek& peek : peeks) {
        if (peek.user_id == request.user_id() && peek.device_id == request.device_id() &&
            peek.expiry_ts > now_ms) {
          return absl::OkStatus();
        }
      }
    }
    PERISCOPE_ASSIGN_OR_RETURN(bool removed,
                               txn.RemoveLocalPeek(request.user_id(), request.device_id()));
    if (!removed) return BadState("This device is not peeking into this room");
    return EnqueueRetirePeek(txn, request.room_id(), {request.user_id(), request.device_id(), 0},
                             reason);
  });
  // An unknown room has no peeks either.
  if (absl::IsNotFound(written)) return BadState("This device is not peeking into this room");
  PERISCOPE_RETURN_IF_ERROR(written);
  return absl::OkStatus();
}

absl::StatusOr<v1::QueryLocalPeekersResponse> LocalPeeks::Peekers(
    const v1::QueryLocalPeekersRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<LocalPeek> peeks, store_.LocalPeeks(request.room_id()));
  v1::QueryLocalPeekersResponse response;
  for (const LocalPeek& peek : peeks) {
    v1::LocalPeeker* peeker = response.add_peekers();
    peeker->set_user_id(peek.user_id);
    peeker->set_device_id(peek.device_id);
    peeker->set_peek_expiry_ts(peek.expiry_ts);
  }
  return response;
}

absl::Status RetirePeeksAfterEvent(RoomWriteTxn& txn, const std::string& room_id,
                                   const AcceptedEvent& event, const matrix::Json& content) {
  if (!event.state_key) return absl::OkStatus();
  const bool join = event.type == "m.room.member" && event.membership == "join";
  const bool visibility_closed =
      event.type == "m.room.history_visibility" && *event.state_key == "" &&
      !matrix::NonMemberMaySeeEvent(
          matrix::ParseHistoryVisibility(matrix::StringField(content, "history_visibility")));
  const bool encrypted = event.type == "m.room.encryption" && *event.state_key == "";
  if (!join && !visibility_closed && !encrypted) return absl::OkStatus();
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<LocalPeek> peeks, txn.LocalPeeks());
  for (const LocalPeek& peek : peeks) {
    if (join && peek.user_id != *event.state_key) continue;
    PERISCOPE_ASSIGN_OR_RETURN(bool removed, txn.RemoveLocalPeek(peek.user_id, peek.device_id));
    if (!removed) continue;
    PERISCOPE_RETURN_IF_ERROR(EnqueueRetirePeek(
        txn, room_id, peek, join ? v1::UNPEEK_REASON_JOINED : v1::UNPEEK_REASON_NOT_PEEKABLE));
  }
  return absl::OkStatus();
}

}  // namespace periscope::roomserver
