// Client-server API, reading rooms: GET /joined_rooms from the roomserver, and for
// /rooms/{roomId}: /state, /state/{eventType}[/{stateKey}], /members, /joined_members and
// /event/{eventId} from syncapi, which answers every client read of room events (redactions
// applied, history visibility enforced: syncapi/sync/room_reader.h). An outsider gets 403
// M_FORBIDDEN whether or not the room exists.

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"

namespace periscope::gateway {
namespace {

namespace errcode = matrix::errcode;

using StateHandler = std::function<void(std::vector<matrix::Json>, Responder)>;

// Runs `then` with the room state `user_id` may read (client-form events), or answers the error.
void WithReadableState(ClientRouteDeps& deps, const std::string& room_id,
                       const std::string& user_id, Responder respond, StateHandler then) {
  if (absl::Status s = matrix::ValidateRoomId(room_id); !s.ok()) return respond(StatusResponse(s));
  syncapi_v1::QueryRoomStateRequest request;
  request.set_room_id(room_id);
  request.set_user_id(user_id);
  deps.syncapi->QueryRoomState(request, [respond, then = std::move(then)](
                                            absl::StatusOr<syncapi_v1::QueryRoomStateResponse> r) {
    if (!r.ok()) return respond(StatusResponse(r.status()));
    std::vector<matrix::Json> events;
    for (const std::string& json : r->state_json()) {
      absl::StatusOr<matrix::Json> event = matrix::ParseJson(json);
      if (event.ok()) events.push_back(*std::move(event));
    }
    then(std::move(events), respond);
  });
}

std::string RoomParam(const RouteRequest& request) { return request.params.at("roomId"); }

}  // namespace

void AddRoomReadRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add(
      "GET", absl::StrCat(kClientPrefix, "/joined_rooms"),
      WithAuth(deps.auth, [&deps](RouteRequest, userapi::v1::Device device, Responder respond) {
        roomserver_v1::QueryJoinedRoomsRequest request;
        request.set_user_id(device.user_id());
        deps.roomserver->QueryJoinedRooms(
            request, [respond](absl::StatusOr<roomserver_v1::QueryJoinedRoomsResponse> r) {
              if (!r.ok()) return respond(StatusResponse(r.status()));
              respond(JsonResponse(
                  200, Json{{"joined_rooms", std::vector<std::string>(r->room_ids().begin(),
                                                                      r->room_ids().end())}}));
            });
      }));

  router.Add("GET", absl::StrCat(kClientPrefix, "/rooms/{roomId}/state"),
             WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                         Responder respond) {
               WithReadableState(deps, RoomParam(request), device.user_id(), std::move(respond),
                                 [](std::vector<matrix::Json> state, Responder respond) {
                                   respond(JsonResponse(200, Json(std::move(state))));
                                 });
             }));

  for (const char* pattern :
       {"/rooms/{roomId}/state/{eventType}", "/rooms/{roomId}/state/{eventType}/{stateKey}"}) {
    router.Add("GET", absl::StrCat(kClientPrefix, pattern),
               WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                           Responder respond) {
                 auto key = request.params.find("stateKey");
                 std::string type = request.params.at("eventType");
                 std::string state_key = key == request.params.end() ? "" : key->second;
                 WithReadableState(
                     deps, RoomParam(request), device.user_id(), std::move(respond),
                     [type, state_key](std::vector<matrix::Json> state, Responder respond) {
                       for (const matrix::Json& e : state) {
                         if (matrix::StringField(e, "type") == type &&
                             matrix::JsonField(e, "state_key") == state_key) {
                           return respond(JsonResponse(200, matrix::ContentOf(e)));
                         }
                       }
                       respond(MatrixErrorResponse(
                           404, errcode::kNotFound,
                           absl::StrCat("No ", type, " state with key \"", state_key, "\"")));
                     });
               }));
  }

  router.Add("GET", absl::StrCat(kClientPrefix, "/rooms/{roomId}/members"),
             WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                         Responder respond) {
               WithReadableState(deps, RoomParam(request), device.user_id(), std::move(respond),
                                 [](std::vector<matrix::Json> state, Responder respond) {
                                   Json chunk = Json::array();
                                   for (matrix::Json& e : state) {
                                     if (matrix::StringField(e, "type") == "m.room.member") {
                                       chunk.push_back(std::move(e));
                                     }
                                   }
                                   respond(JsonResponse(200, Json{{"chunk", chunk}}));
                                 });
             }));

  router.Add(
      "GET", absl::StrCat(kClientPrefix, "/rooms/{roomId}/joined_members"),
      WithAuth(
          deps.auth, [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
            WithReadableState(
                deps, RoomParam(request), device.user_id(), std::move(respond),
                [](std::vector<matrix::Json> state, Responder respond) {
                  Json joined = Json::object();
                  for (const matrix::Json& e : state) {
                    const matrix::Json& content = matrix::ContentOf(e);
                    if (matrix::StringField(e, "type") != "m.room.member" ||
                        matrix::StringField(content, "membership") != "join") {
                      continue;
                    }
                    Json profile = Json::object();
                    for (const char* key : {"displayname", "avatar_url"}) {
                      const matrix::Json& value = matrix::JsonField(content, key);
                      if (value.is_string()) {
                        profile[std::string(key) == "displayname" ? "display_name" : key] = value;
                      }
                    }
                    joined[matrix::StringField(e, "state_key")] = profile;
                  }
                  respond(JsonResponse(200, Json{{"joined", joined}}));
                });
          }));

  router.Add("GET", absl::StrCat(kClientPrefix, "/rooms/{roomId}/event/{eventId}"),
             WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                         Responder respond) {
               const std::string room_id = RoomParam(request);
               const std::string event_id = request.params.at("eventId");
               if (absl::Status s = matrix::ValidateEventId(event_id); !s.ok()) {
                 return respond(StatusResponse(s));
               }
               if (absl::Status s = matrix::ValidateRoomId(room_id); !s.ok()) {
                 return respond(StatusResponse(s));
               }
               syncapi_v1::QueryRoomEventRequest query;
               query.set_user_id(device.user_id());
               query.set_room_id(room_id);
               query.set_event_id(event_id);
               deps.syncapi->QueryRoomEvent(
                   query, [respond](absl::StatusOr<syncapi_v1::QueryRoomEventResponse> r) {
                     if (!r.ok()) return respond(StatusResponse(r.status()));
                     absl::StatusOr<matrix::Json> event = matrix::ParseJson(r->event_json());
                     if (!event.ok()) return respond(StatusResponse(event.status()));
                     respond(JsonResponse(200, *event));
                   });
             }));
}

}  // namespace periscope::gateway
