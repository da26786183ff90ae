#include "pkg/matrix/event_builder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

absl::Status InvalidParam(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam, message);
}

absl::Status TooLarge(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kTooLarge, message);
}

absl::Status ValidateProto(const ProtoEvent& proto, int room_version) {
  // A room version 12 create event has no room id: its own id will name the room.
  const bool names_room =
      room_version >= 12 && proto.type == "m.room.create" && proto.state_key == "";
  if (names_room && !proto.room_id.empty()) {
    return InvalidParam(
        "a room version 12 m.room.create has no room_id: its event id names the room");
  }
  if (!names_room) PERISCOPE_RETURN_IF_ERROR(ValidateRoomId(proto.room_id));
  if (!ParseSigilId(proto.sender, '@').ok()) {
    return InvalidParam(absl::StrCat("sender \"", proto.sender, "\" is not a user id"));
  }
  if (proto.type.empty()) return InvalidParam("the event type is empty");
  if (!proto.content.is_object()) return InvalidParam("the event content must be an object");
  if (proto.redacts) PERISCOPE_RETURN_IF_ERROR(ValidateEventId(*proto.redacts));
  if (proto.origin_server_ts < 0 || proto.origin_server_ts > kMaxSafeInteger) {
    return InvalidParam("origin_server_ts is out of range");
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<PrevEvent> ChoosePrevEvents(std::vector<PrevEvent> prev_events) {
  std::sort(prev_events.begin(), prev_events.end(), [](const PrevEvent& a, const PrevEvent& b) {
    return a.depth != b.depth ? a.depth > b.depth : a.event_id < b.event_id;
  });
  prev_events.erase(
      std::unique(prev_events.begin(), prev_events.end(),
                  [](const PrevEvent& a, const PrevEvent& b) { return a.event_id == b.event_id; }),
      prev_events.end());
  if (prev_events.size() > kMaxPrevEvents) prev_events.resize(kMaxPrevEvents);
  return prev_events;
}

absl::Status CheckEventSize(const Json& event) {
  for (const char* field : {"sender", "room_id", "type", "state_key", "event_id"}) {
    auto it = event.find(field);
    if (it != event.end() && it->is_string() &&
        it->get_ref<const std::string&>().size() > kMaxEventFieldBytes) {
      return TooLarge(
          absl::StrCat("the event's ", field, " is longer than ", kMaxEventFieldBytes, " bytes"));
    }
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::string canonical, EncodeCanonicalJson(event));
  if (canonical.size() > kMaxEventBytes) {
    return TooLarge(
        absl::StrCat("the event is ", canonical.size(), " bytes; the limit is ", kMaxEventBytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<BuiltEvent> BuildEvent(const ProtoEvent& proto, const AuthEvents& state,
                                      std::vector<PrevEvent> prev_events, int room_version,
                                      absl::string_view origin, const SigningKey& key) {
  if (proto.type == "m.room.create" && !prev_events.empty()) {
    // Only a room's first event may be its create event: a second one would be another DAG root
    // with a creator and version of the sender's choosing (auth rule 1 refuses it too).
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                       "m.room.create can only be sent when a room is created");
  }
  PERISCOPE_RETURN_IF_ERROR(ValidateProto(proto, room_version));
  const bool is_create = proto.type == "m.room.create" && proto.state_key == "";
  Json event = {{"sender", proto.sender},
                {"type", proto.type},
                {"content", proto.content},
                {"origin_server_ts", proto.origin_server_ts}};
  if (!(is_create && room_version >= 12)) event["room_id"] = proto.room_id;
  if (proto.state_key) event["state_key"] = *proto.state_key;
  if (room_version < 11) event["origin"] = origin;
  if (proto.redacts) {
    if (room_version >= 11) {
      event["content"]["redacts"] = *proto.redacts;
    } else {
      event["redacts"] = *proto.redacts;
    }
  }

  Json auth_events = Json::array();
  if (!is_create) {
    std::vector<std::string> ids;
    for (const StateKey& wanted : AuthEventKeysFor(event, room_version)) {
      const AuthEvents::Entry* entry = state.Find(wanted.first, wanted.second);
      if (entry != nullptr && std::find(ids.begin(), ids.end(), entry->event_id) == ids.end()) {
        ids.push_back(entry->event_id);
      }
    }
    auth_events = ids;
  }
  event["auth_events"] = std::move(auth_events);

  Json prev_ids = Json::array();
  int64_t depth = 1;
  if (!is_create) {
    std::vector<PrevEvent> chosen = ChoosePrevEvents(std::move(prev_events));
    if (chosen.empty()) {
      return MatrixError(absl::StatusCode::kFailedPrecondition, errcode::kBadState,
                         "only m.room.create may have no prev_events");
    }
    depth = std::min(chosen.front().depth, kMaxDepth - 1) + 1;
    for (const PrevEvent& prev : chosen) prev_ids.push_back(prev.event_id);
  }
  event["prev_events"] = std::move(prev_ids);
  event["depth"] = depth;

  PERISCOPE_ASSIGN_OR_RETURN(Json signed_event,
                             SignEvent(std::move(event), origin, key, room_version));
  PERISCOPE_ASSIGN_OR_RETURN(std::string event_id, ComputeEventId(signed_event, room_version));
  PERISCOPE_RETURN_IF_ERROR(CheckEventSize(signed_event));
  return BuiltEvent{std::move(event_id), std::move(signed_event)};
}

}  // namespace periscope::matrix
