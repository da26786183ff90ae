// Client-server API: POST /createRoom; PUT /rooms/{roomId}/send/{eventType}/{txnId},
// PUT /rooms/{roomId}/state/{eventType}[/{stateKey}], PUT /rooms/{roomId}/redact/{eventId}/{txnId}.
// Event content is passed to the roomserver as the raw body: it parses it strictly (canonical
// JSON, 65,536-byte limit) so the bytes a client sent are the bytes that get hashed.

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {
namespace {

namespace errcode = matrix::errcode;
using roomserver_v1::PerformCreateRoomRequest;

absl::Status BadJson(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson, message);
}

absl::StatusOr<std::vector<std::string>> OptionalStringArray(const Json& body, const char* key) {
  std::vector<std::string> out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) return BadJson(absl::StrCat(key, " must be an array of strings"));
  for (const Json& item : *it) {
    if (!item.is_string()) return BadJson(absl::StrCat(key, " must be an array of strings"));
    out.push_back(item.get<std::string>());
  }
  return out;
}

absl::StatusOr<PerformCreateRoomRequest> ParseCreateRoom(const std::string& raw) {
  PERISCOPE_ASSIGN_OR_RETURN(Json body, ParseOptionalJsonObject(raw));
  PerformCreateRoomRequest request;
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> preset, OptionalString(body, "preset"));
  if (preset == "private_chat") {
    request.set_preset(roomserver_v1::ROOM_PRESET_PRIVATE_CHAT);
  } else if (preset == "public_chat") {
    request.set_preset(roomserver_v1::ROOM_PRESET_PUBLIC_CHAT);
  } else if (preset == "trusted_private_chat") {
    request.set_preset(roomserver_v1::ROOM_PRESET_TRUSTED_PRIVATE_CHAT);
  } else if (preset) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       absl::StrCat("unknown preset \"", *preset, "\""));
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> visibility,
                             OptionalString(body, "visibility"));
  if (visibility == "public") {
    request.set_visibility(roomserver_v1::ROOM_VISIBILITY_PUBLIC);
  } else if (visibility == "private" || !visibility) {
    request.set_visibility(roomserver_v1::ROOM_VISIBILITY_PRIVATE);
  } else {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       "visibility must be public or private");
  }
  for (const char* key : {"name", "topic", "room_alias_name", "room_version"}) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(body, key));
    if (!value) continue;
    absl::string_view k = key;
    if (k == "name") request.set_name(*value);
    if (k == "topic") request.set_topic(*value);
    if (k == "room_alias_name") request.set_room_alias_name(*value);
    if (k == "room_version") request.set_room_version(*value);
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<std::string> invite, OptionalStringArray(body, "invite"));
  for (std::string& user : invite) request.add_invite(std::move(user));
  PERISCOPE_ASSIGN_OR_RETURN(bool is_direct, OptionalBool(body, "is_direct", false));
  request.set_is_direct(is_direct);
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<Json> override_levels,
                             OptionalObject(body, "power_level_content_override"));
  if (override_levels) request.set_power_level_content_override_json(override_levels->dump());
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<Json> creation,
                             OptionalObject(body, "creation_content"));
  if (creation) request.set_creation_content_json(creation->dump());
  if (auto it = body.find("initial_state"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return BadJson("initial_state must be an array of state events");
    for (const Json& event : *it) {
      if (!event.is_object()) return BadJson("initial_state entries must be objects");
      roomserver_v1::StateEvent* state = request.add_initial_state();
      PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> type, OptionalString(event, "type"));
      PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> state_key,
                                 OptionalString(event, "state_key"));
      PERISCOPE_ASSIGN_OR_RETURN(std::optional<Json> content, OptionalObject(event, "content"));
      state->set_type(type.value_or(""));
      state->set_state_key(state_key.value_or(""));
      state->set_content_json(content.value_or(Json::object()).dump());
    }
  }
  return request;
}

// Sends an event and answers {"event_id": ...}.
void SendEvent(ClientRouteDeps& deps, roomserver_v1::PerformSendEventRequest request,
               Responder respond) {
  deps.roomserver->PerformSendEvent(
      request, [respond](absl::StatusOr<roomserver_v1::PerformSendEventResponse> r) {
        if (!r.ok()) return respond(StatusResponse(r.status()));
        respond(JsonResponse(200, Json{{"event_id", r->event_id()}}));
      });
}

roomserver_v1::PerformSendEventRequest SendRequest(const RouteRequest& request,
                                                   const userapi::v1::Device& device) {
  roomserver_v1::PerformSendEventRequest send;
  send.set_user_id(device.user_id());
  send.set_device_id(device.device_id());
  send.set_room_id(request.params.at("roomId"));
  send.set_content_json(request.http.body);
  return send;
}

}  // namespace

void AddRoomRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add("POST", absl::StrCat(kClientPrefix, "/createRoom"),
             WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                         Responder respond) {
               absl::StatusOr<PerformCreateRoomRequest> create = ParseCreateRoom(request.http.body);
               if (!create.ok()) return respond(StatusResponse(create.status()));
               create->set_user_id(device.user_id());
               create->set_device_id(device.device_id());
               // The creator's join carries their display name and avatar, as any join does.
               userapi::v1::QueryProfileRequest profile;
               profile.set_user_id(device.user_id());
               deps.userapi.QueryProfile(
                   profile, [&deps, respond, create = *std::move(create)](
                                absl::StatusOr<userapi::v1::QueryProfileResponse> p) mutable {
                     if (p.ok()) create.set_creator_member_content_json(ProfileMemberContent(*p));
                     deps.roomserver->PerformCreateRoom(
                         create,
                         [respond](absl::StatusOr<roomserver_v1::PerformCreateRoomResponse> r) {
                           if (!r.ok()) return respond(StatusResponse(r.status()));
                           Json body = {{"room_id", r->room_id()}};
                           if (!r->room_alias().empty()) body["room_alias"] = r->room_alias();
                           respond(JsonResponse(200, body));
                         });
                   });
             }));

  router.Add("PUT", absl::StrCat(kClientPrefix, "/rooms/{roomId}/send/{eventType}/{txnId}"),
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        roomserver_v1::PerformSendEventRequest send = SendRequest(request, device);
                        send.set_event_type(request.params.at("eventType"));
                        send.set_txn_id(request.params.at("txnId"));
                        SendEvent(deps, std::move(send), std::move(respond));
                      }));

  for (const char* pattern :
       {"/rooms/{roomId}/state/{eventType}", "/rooms/{roomId}/state/{eventType}/{stateKey}"}) {
    router.Add("PUT", absl::StrCat(kClientPrefix, pattern),
               WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                           Responder respond) {
                 roomserver_v1::PerformSendEventRequest send = SendRequest(request, device);
                 send.set_event_type(request.params.at("eventType"));
                 auto key = request.params.find("stateKey");
                 send.set_state_key(key == request.params.end() ? "" : key->second);
                 SendEvent(deps, std::move(send), std::move(respond));
               }));
  }

  router.Add("PUT", absl::StrCat(kClientPrefix, "/rooms/{roomId}/redact/{eventId}/{txnId}"),
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        absl::StatusOr<Json> body = ParseOptionalJsonObject(request.http.body);
                        if (!body.ok()) return respond(StatusResponse(body.status()));
                        roomserver_v1::PerformSendEventRequest send = SendRequest(request, device);
                        send.set_event_type("m.room.redaction");
                        send.set_txn_id(request.params.at("txnId"));
                        send.set_redacts(request.params.at("eventId"));
                        send.set_content_json(body->dump());
                        SendEvent(deps, std::move(send), std::move(respond));
                      }));
}

}  // namespace periscope::gateway
