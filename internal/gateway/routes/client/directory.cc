// Client-server API, the room directory: PUT/GET/DELETE /directory/room/{roomAlias},
// GET/PUT /directory/list/room/{roomId}, GET/POST /publicRooms.

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {
namespace {

namespace errcode = matrix::errcode;

// Answers {} on success, else the Matrix error.
template <typename Response>
Callback<Response> EmptyReply(Responder respond) {
  return [respond](absl::StatusOr<Response> r) {
    if (!r.ok()) return respond(StatusResponse(r.status()));
    respond(JsonResponse(200, Json::object()));
  };
}

Json PublicRoomJson(const roomserver_v1::PublicRoom& room) {
  Json out = {{"room_id", room.room_id()},
              {"num_joined_members", room.num_joined_members()},
              {"world_readable", room.world_readable()},
              {"guest_can_join", room.guest_can_join()}};
  if (!room.name().empty()) out["name"] = room.name();
  if (!room.topic().empty()) out["topic"] = room.topic();
  if (!room.canonical_alias().empty()) out["canonical_alias"] = room.canonical_alias();
  if (!room.avatar_url().empty()) out["avatar_url"] = room.avatar_url();
  if (!room.join_rule().empty()) out["join_rule"] = room.join_rule();
  return out;
}

void AnswerPublicRooms(ClientRouteDeps& deps, roomserver_v1::QueryPublicRoomsRequest request,
                       Responder respond) {
  deps.roomserver->QueryPublicRooms(request, [respond](absl::StatusOr<
                                                       roomserver_v1::QueryPublicRoomsResponse>
                                                           r) {
    if (!r.ok()) return respond(StatusResponse(r.status()));
    Json chunk = Json::array();
    for (const roomserver_v1::PublicRoom& room : r->chunk()) chunk.push_back(PublicRoomJson(room));
    Json body = {{"chunk", chunk}, {"total_room_count_estimate", r->total_room_count_estimate()}};
    if (!r->next_batch().empty()) body["next_batch"] = r->next_batch();
    if (!r->prev_batch().empty()) body["prev_batch"] = r->prev_batch();
    respond(JsonResponse(200, body));
  });
}

}  // namespace

void AddDirectoryRoutes(Router& router, ClientRouteDeps& deps) {
  const std::string alias_path = absl::StrCat(kClientPrefix, "/directory/room/{roomAlias}");
  router.Add(
      "PUT", alias_path,
      WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                  Responder respond) {
        absl::StatusOr<Json> body = ParseJsonObject(request.http.body);
        if (!body.ok()) return respond(StatusResponse(body.status()));
        absl::StatusOr<std::optional<std::string>> room_id = OptionalString(*body, "room_id");
        if (!room_id.ok()) return respond(StatusResponse(room_id.status()));
        if (!*room_id) {
          return respond(MatrixErrorResponse(400, errcode::kMissingParam, "room_id is required"));
        }
        roomserver_v1::PerformSetAliasRequest set;
        set.set_user_id(device.user_id());
        set.set_alias(request.params.at("roomAlias"));
        set.set_room_id(**room_id);
        deps.roomserver->PerformSetAlias(
            set, [respond](absl::StatusOr<roomserver_v1::PerformSetAliasResponse> r) {
              // The spec answers a taken alias with 409.
              if (absl::IsAlreadyExists(r.status())) {
                return respond(
                    MatrixErrorResponse(409, errcode::kUnknown, "The room alias already exists"));
              }
              if (!r.ok()) return respond(StatusResponse(r.status()));
              respond(JsonResponse(200, Json::object()));
            });
      }));
  router.Add("GET", alias_path, [&deps](RouteRequest request, Responder respond) {
    roomserver_v1::QueryAliasRequest query;
    query.set_alias(request.params.at("roomAlias"));
    deps.roomserver->QueryAlias(query, [respond](
                                           absl::StatusOr<roomserver_v1::QueryAliasResponse> r) {
      if (!r.ok()) return respond(StatusResponse(r.status()));
      respond(JsonResponse(200, Json{{"room_id", r->room_id()},
                                     {"servers", std::vector<std::string>(r->servers().begin(),
                                                                          r->servers().end())}}));
    });
  });
  router.Add("DELETE", alias_path,
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        roomserver_v1::PerformRemoveAliasRequest remove;
                        remove.set_user_id(device.user_id());
                        remove.set_alias(request.params.at("roomAlias"));
                        deps.roomserver->PerformRemoveAlias(
                            remove, EmptyReply<roomserver_v1::PerformRemoveAliasResponse>(respond));
                      }));

  const std::string list_path = absl::StrCat(kClientPrefix, "/directory/list/room/{roomId}");
  router.Add("GET", list_path, [&deps](RouteRequest request, Responder respond) {
    roomserver_v1::QueryVisibilityRequest query;
    query.set_room_id(request.params.at("roomId"));
    deps.roomserver->QueryVisibility(
        query, [respond](absl::StatusOr<roomserver_v1::QueryVisibilityResponse> r) {
          if (!r.ok()) return respond(StatusResponse(r.status()));
          respond(JsonResponse(
              200, Json{{"visibility", r->visibility() == roomserver_v1::ROOM_VISIBILITY_PUBLIC
                                           ? "public"
                                           : "private"}}));
        });
  });
  router.Add("PUT", list_path,
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        absl::StatusOr<Json> body = ParseJsonObject(request.http.body);
                        if (!body.ok()) return respond(StatusResponse(body.status()));
                        absl::StatusOr<std::optional<std::string>> visibility =
                            OptionalString(*body, "visibility");
                        if (!visibility.ok()) return respond(StatusResponse(visibility.status()));
                        roomserver_v1::PerformSetVisibilityRequest set;
                        set.set_user_id(device.user_id());
                        set.set_room_id(request.params.at("roomId"));
                        if (*visibility == "public") {
                          set.set_visibility(roomserver_v1::ROOM_VISIBILITY_PUBLIC);
                        } else if (*visibility == "private" || !*visibility) {
                          set.set_visibility(roomserver_v1::ROOM_VISIBILITY_PRIVATE);
                        } else {
                          return respond(MatrixErrorResponse(
                              400, errcode::kInvalidParam, "visibility must be public or private"));
                        }
                        deps.roomserver->PerformSetVisibility(
                            set, EmptyReply<roomserver_v1::PerformSetVisibilityResponse>(respond));
                      }));

  router.Add("GET", absl::StrCat(kClientPrefix, "/publicRooms"),
             [&deps](RouteRequest request, Responder respond) {
               roomserver_v1::QueryPublicRoomsRequest query;
               if (const std::string* limit = request.http.QueryParam("limit")) {
                 int value = 0;
                 if (!absl::SimpleAtoi(*limit, &value) || value < 0) {
                   return respond(MatrixErrorResponse(400, errcode::kInvalidParam,
                                                      "limit must be a non-negative integer"));
                 }
                 query.set_limit(value);
               }
               if (const std::string* since = request.http.QueryParam("since")) {
                 query.set_since(*since);
               }
               AnswerPublicRooms(deps, std::move(query), std::move(respond));
             });
  router.Add(
      "POST", absl::StrCat(kClientPrefix, "/publicRooms"),
      WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device, Responder respond) {
        absl::StatusOr<Json> body = ParseOptionalJsonObject(request.http.body);
        if (!body.ok()) return respond(StatusResponse(body.status()));
        roomserver_v1::QueryPublicRoomsRequest query;
        const Json& limit = body->value("limit", Json());
        if (!limit.is_null()) {
          if (!limit.is_number_integer() || limit.get<int64_t>() < 0) {
            return respond(MatrixErrorResponse(400, errcode::kInvalidParam,
                                               "limit must be a non-negative integer"));
          }
          query.set_limit(static_cast<int>(std::min<int64_t>(limit.get<int64_t>(), 1000)));
        }
        absl::StatusOr<std::optional<std::string>> since = OptionalString(*body, "since");
        if (!since.ok()) return respond(StatusResponse(since.status()));
        query.set_since(since->value_or(""));
        absl::StatusOr<std::optional<Json>> filter = OptionalObject(*body, "filter");
        if (!filter.ok()) return respond(StatusResponse(filter.status()));
        if (*filter) {
          absl::StatusOr<std::optional<std::string>> term =
              OptionalString(**filter, "generic_search_term");
          if (!term.ok()) return respond(StatusResponse(term.status()));
          query.set_filter_term(term->value_or(""));
        }
        AnswerPublicRooms(deps, std::move(query), std::move(respond));
      }));
}

}  // namespace periscope::gateway
