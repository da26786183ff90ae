#include "internal/roomserver/perform/event_sender.h"

#include "absl/strings/str_cat.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

namespace errcode = matrix::errcode;

absl::Status InvalidParam(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam, message);
}

}  // namespace

absl::StatusOr<v1::PerformSendEventResponse> EventSender::Send(
    const v1::PerformSendEventRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  PERISCOPE_RETURN_IF_ERROR(matrix::ParseSigilId(request.user_id(), '@').status());
  if (request.event_type().empty()) return InvalidParam("the event type is empty");
  if (request.event_type().size() > matrix::kMaxEventFieldBytes) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kTooLarge,
                       "the event type is longer than 255 bytes");
  }
  PERISCOPE_ASSIGN_OR_RETURN(
      matrix::Json content,
      matrix::ParseJson(request.content_json(), {.max_bytes = matrix::kMaxEventBytes}));
  if (!content.is_object()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                       "the event content must be a JSON object");
  }
  const bool with_txn = !request.txn_id().empty();
  // The response of an earlier send with the same transaction id, if there was one.
  auto earlier_send = [&]() -> absl::StatusOr<std::optional<v1::PerformSendEventResponse>> {
    PERISCOPE_ASSIGN_OR_RETURN(
        std::optional<std::string> earlier,
        store_.TransactionEventId(request.user_id(), request.device_id(), request.txn_id()));
    if (!earlier) return std::nullopt;
    v1::PerformSendEventResponse response;
    response.set_event_id(*earlier);
    return response;
  };
  if (with_txn) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<v1::PerformSendEventResponse> earlier, earlier_send());
    if (earlier) return *earlier;
  }

  matrix::ProtoEvent proto;
  proto.room_id = request.room_id();
  proto.sender = request.user_id();
  proto.type = request.event_type();
  if (request.has_state_key()) proto.state_key = request.state_key();
  proto.content = std::move(content);
  if (!request.redacts().empty()) {
    if (proto.type != "m.room.redaction") return InvalidParam("only m.room.redaction redacts");
    PERISCOPE_RETURN_IF_ERROR(matrix::ValidateEventId(request.redacts()));
    proto.redacts = request.redacts();
  }

  std::string event_id;
  absl::Status written = store_.Write(request.room_id(), [&](RoomWriteTxn& txn) -> absl::Status {
    // From room version 11 a redaction names its target in content.redacts, so one sent with
    // PUT /send/m.room.redaction is a redaction all the same: the same permission check applies.
    if (proto.type == "m.room.redaction" && !proto.redacts && txn.room_version() >= 11) {
      if (std::string target = matrix::StringField(proto.content, "redacts"); !target.empty()) {
        PERISCOPE_RETURN_IF_ERROR(matrix::ValidateEventId(target));
        proto.redacts = target;
      }
    }
    if (proto.redacts) {
      // A user may redact their own events, or others' with the "redact" level.
      PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventRecord> found, txn.Event(*proto.redacts));
      if (found && found->room_id == request.room_id()) {
        PERISCOPE_ASSIGN_OR_RETURN(matrix::Json target, matrix::ParseJson(found->event_json));
        PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents levels,
                                   txn.State({{"m.room.create", ""}, {"m.room.power_levels", ""}}));
        PERISCOPE_RETURN_IF_ERROR(matrix::CheckClientRedaction(
            request.user_id(), matrix::StringField(target, "sender"), levels, txn.room_version()));
      }
    }
    PERISCOPE_ASSIGN_OR_RETURN(matrix::BuiltEvent built,
                               writer_.Append(txn, proto, {request.device_id(), request.txn_id()}));
    event_id = built.event_id;
    if (with_txn) {
      PERISCOPE_RETURN_IF_ERROR(txn.RecordTransaction(request.user_id(), request.device_id(),
                                                      request.txn_id(), event_id));
    }
    return absl::OkStatus();
  });
  if (absl::IsNotFound(written)) {
    // Do not tell outsiders whether a room exists.
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                       absl::StrCat(request.user_id(), " is not in room ", request.room_id()));
  }
  if (absl::IsAlreadyExists(written) && with_txn) {
    // The same transaction committed concurrently: answer with its event.
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<v1::PerformSendEventResponse> earlier, earlier_send());
    if (earlier) return *earlier;
  }
  PERISCOPE_RETURN_IF_ERROR(written);
  v1::PerformSendEventResponse response;
  response.set_event_id(event_id);
  return response;
}

}  // namespace periscope::roomserver
