// Client-server API, reading rooms from the roomserver: GET /joined_rooms, and for
// /rooms/{roomId}: /state, /state/{eventType}[/{stateKey}], /members, /joined_members and
// /event/{eventId}. Only joined members may read (history visibility for non-members arrives with
// peeking, issue 5); anyone else, and an unknown room, gets 403 M_FORBIDDEN, so that outsiders
// learn nothing about which rooms exist.

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/client_event.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"

namespace periscope::gateway {
namespace {

namespace errcode = matrix::errcode;

// A state event as the roomserver returned it: parsed PDU and its id.
struct StateEvent {
  matrix::Json pdu;
  std::string event_id;
  matrix::Json Client() const { return matrix::ClientEventFromPdu(pdu, event_id); }
};
using StateKeys = std::vector<std::pair<std::string, std::string>>;
using StateHandler = std::function<void(std::vector<StateEvent>, Responder)>;

// Runs `then` if `user_id` is joined to `room_id`; answers 403 otherwise.
void IfJoined(ClientRouteDeps& deps, const std::string& room_id, const std::string& user_id,
              Responder respond, std::function<void(Responder)> then) {
  if (absl::Status s = matrix::ValidateRoomId(room_id); !s.ok()) return respond(StatusResponse(s));
  roomserver_v1::QueryMembershipRequest membership;
  membership.set_room_id(room_id);
  membership.set_user_id(user_id);
  deps.roomserver->QueryMembership(
      membership, [room_id, user_id, respond, then = std::move(then)](
                      absl::StatusOr<roomserver_v1::QueryMembershipResponse> m) {
        if (!m.ok()) return respond(StatusResponse(m.status()));
        if (m->membership() != roomserver_v1::MEMBERSHIP_JOIN) {
          return respond(MatrixErrorResponse(403, errcode::kForbidden,
                                             absl::StrCat(user_id, " is not in room ", room_id)));
        }
        then(respond);
      });
}

// Runs `then` with the room's current state (all of it if `keys` is empty) for a joined member.
void WithJoinedState(ClientRouteDeps& deps, const std::string& room_id, const std::string& user_id,
                     StateKeys keys, Responder respond, StateHandler then) {
  IfJoined(deps, room_id, user_id, std::move(respond),
           [&deps, room_id, keys = std::move(keys), then = std::move(then)](Responder respond) {
             roomserver_v1::QueryCurrentStateRequest state;
             state.set_room_id(room_id);
             for (const auto& [type, key] : keys) {
               roomserver_v1::StateKeyTuple* tuple = state.add_state_tuples();
               tuple->set_type(type);
               tuple->set_state_key(key);
             }
             deps.roomserver->QueryCurrentState(
                 state,
                 [respond, then](absl::StatusOr<roomserver_v1::QueryCurrentStateResponse> r) {
                   if (!r.ok()) return respond(StatusResponse(r.status()));
                   std::vector<StateEvent> events;
                   for (int i = 0; i < r->state_json_size() && i < r->state_event_ids_size(); ++i) {
                     absl::StatusOr<matrix::Json> pdu = matrix::ParseJson(r->state_json(i));
                     if (pdu.ok()) events.push_back({*std::move(pdu), r->state_event_ids(i)});
                   }
                   then(std::move(events), respond);
                 });
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
               WithJoinedState(deps, RoomParam(request), device.user_id(), {}, std::move(respond),
                               [](std::vector<StateEvent> state, Responder respond) {
                                 Json out = Json::array();
                                 for (const StateEvent& e : state) out.push_back(e.Client());
                                 respond(JsonResponse(200, out));
                               });
             }));

  for (const char* pattern :
       {"/rooms/{roomId}/state/{eventType}", "/rooms/{roomId}/state/{eventType}/{stateKey}"}) {
    router.Add("GET", absl::StrCat(kClientPrefix, pattern),
               WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                           Responder respond) {
                 auto key = request.params.find("stateKey");
                 StateKeys keys = {{request.params.at("eventType"),
                                    key == request.params.end() ? "" : key->second}};
                 WithJoinedState(deps, RoomParam(request), device.user_id(), keys,
                                 std::move(respond),
                                 [keys](std::vector<StateEvent> state, Responder respond) {
                                   if (state.empty()) {
                                     return respond(MatrixErrorResponse(
                                         404, errcode::kNotFound,
                                         absl::StrCat("No ", keys[0].first, " state with key \"",
                                                      keys[0].second, "\"")));
                                   }
                                   respond(JsonResponse(200, matrix::ContentOf(state[0].pdu)));
                                 });
               }));
  }

  router.Add("GET", absl::StrCat(kClientPrefix, "/rooms/{roomId}/members"),
             WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                         Responder respond) {
               WithJoinedState(deps, RoomParam(request), device.user_id(), {}, std::move(respond),
                               [](std::vector<StateEvent> state, Responder respond) {
                                 Json chunk = Json::array();
                                 for (const StateEvent& e : state) {
                                   if (matrix::StringField(e.pdu, "type") == "m.room.member") {
                                     chunk.push_back(e.Client());
                                   }
                                 }
                                 respond(JsonResponse(200, Json{{"chunk", chunk}}));
                               });
             }));

  router.Add(
      "GET", absl::StrCat(kClientPrefix, "/rooms/{roomId}/joined_members"),
      WithAuth(
          deps.auth, [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
            WithJoinedState(
                deps, RoomParam(request), device.user_id(), {}, std::move(respond),
                [](std::vector<StateEvent> state, Responder respond) {
                  Json joined = Json::object();
                  for (const StateEvent& e : state) {
                    const matrix::Json& content = matrix::ContentOf(e.pdu);
                    if (matrix::StringField(e.pdu, "type") != "m.room.member" ||
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
                    joined[matrix::StringField(e.pdu, "state_key")] = profile;
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
               IfJoined(deps, room_id, device.user_id(), std::move(respond),
                        [&deps, room_id, event_id](Responder respond) {
                          roomserver_v1::QueryEventsByIdRequest query;
                          query.add_event_ids(event_id);
                          deps.roomserver->QueryEventsById(
                              query, [respond, room_id, event_id](
                                         absl::StatusOr<roomserver_v1::QueryEventsByIdResponse> r) {
                                if (!r.ok()) return respond(StatusResponse(r.status()));
                                if (r->events_json_size() == 0 || r->room_ids(0) != room_id) {
                                  return respond(MatrixErrorResponse(404, errcode::kNotFound,
                                                                     "Event not found"));
                                }
                                absl::StatusOr<matrix::Json> event =
                                    matrix::ClientEventFromPduJson(r->events_json(0), event_id);
                                if (!event.ok()) return respond(StatusResponse(event.status()));
                                respond(JsonResponse(200, *event));
                              });
                        });
             }));
}

}  // namespace periscope::gateway
