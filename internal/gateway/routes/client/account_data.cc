// Client-server API: GET/PUT /user/{userId}/account_data/{type} and
// /user/{userId}/rooms/{roomId}/account_data/{type} (spec "Client Config"), and the room tags
// (GET /user/{userId}/rooms/{roomId}/tags, PUT/DELETE .../tags/{tag}, spec "Room Tagging"), which
// are the room's m.tag account data. syncapi stores the data and delivers changes in /sync; the
// gateway checks that the user is the caller's own and that the type is one clients may set.

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"

namespace periscope::gateway {
namespace {

// 403 unless the path's {userId} is the caller: account data and tags are private to their owner.
std::optional<HttpResponse> NotOwner(const RouteRequest& request,
                                     const userapi::v1::Device& device) {
  if (request.params.at("userId") == device.user_id()) return std::nullopt;
  return MatrixErrorResponse(403, matrix::errcode::kForbidden,
                             "You cannot read or change other users' account data");
}

// Types the server controls: the spec answers 405 M_BAD_JSON for a client's attempt to set them.
bool ServerControlled(absl::string_view type) {
  return type == "m.fully_read" || type == "m.push_rules";
}

void PutAccountData(ClientRouteDeps& deps, const RouteRequest& request,
                    const userapi::v1::Device& device, const std::string& room_id,
                    Responder respond) {
  if (auto refused = NotOwner(request, device)) return respond(*std::move(refused));
  const std::string& type = request.params.at("type");
  if (ServerControlled(type)) {
    return respond(MatrixErrorResponse(
        405, matrix::errcode::kBadJson,
        absl::StrCat("Account data of type ", type, " is controlled by the server")));
  }
  absl::StatusOr<Json> body = ParseJsonObject(request.http.body);
  if (!body.ok()) return respond(StatusResponse(body.status()));
  syncapi_v1::PutAccountDataRequest put;
  put.set_user_id(device.user_id());
  put.set_room_id(room_id);
  put.set_type(type);
  put.set_content_json(body->dump(-1, ' ', false, Json::error_handler_t::replace));
  deps.syncapi->PutAccountData(put,
                               [respond](absl::StatusOr<syncapi_v1::PutAccountDataResponse> r) {
                                 if (!r.ok()) return respond(StatusResponse(r.status()));
                                 respond(JsonResponse(200, Json::object()));
                               });
}

void GetAccountData(ClientRouteDeps& deps, const RouteRequest& request,
                    const userapi::v1::Device& device, const std::string& room_id,
                    Responder respond) {
  if (auto refused = NotOwner(request, device)) return respond(*std::move(refused));
  syncapi_v1::QueryAccountDataRequest query;
  query.set_user_id(device.user_id());
  query.set_room_id(room_id);
  query.set_type(request.params.at("type"));
  deps.syncapi->QueryAccountData(
      query, [respond](absl::StatusOr<syncapi_v1::QueryAccountDataResponse> r) {
        if (!r.ok()) return respond(StatusResponse(r.status()));
        // Already a JSON object, encoded by syncapi.
        respond(HttpResponse{200, "application/json", r->content_json(), {}});
      });
}

void Tag(ClientRouteDeps& deps, const RouteRequest& request, const userapi::v1::Device& device,
         bool remove, Responder respond) {
  if (auto refused = NotOwner(request, device)) return respond(*std::move(refused));
  syncapi_v1::PerformTagRequest tag;
  tag.set_user_id(device.user_id());
  tag.set_room_id(request.params.at("roomId"));
  tag.set_tag(request.params.at("tag"));
  tag.set_remove(remove);
  if (!remove) {
    absl::StatusOr<Json> body = ParseJsonObject(request.http.body);
    if (!body.ok()) return respond(StatusResponse(body.status()));
    tag.set_content_json(body->dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  deps.syncapi->PerformTag(tag, [respond](absl::StatusOr<syncapi_v1::PerformTagResponse> r) {
    if (!r.ok()) return respond(StatusResponse(r.status()));
    respond(JsonResponse(200, Json::object()));
  });
}

void GetTags(ClientRouteDeps& deps, const RouteRequest& request, const userapi::v1::Device& device,
             Responder respond) {
  if (auto refused = NotOwner(request, device)) return respond(*std::move(refused));
  syncapi_v1::QueryAccountDataRequest query;
  query.set_user_id(device.user_id());
  query.set_room_id(request.params.at("roomId"));
  query.set_type("m.tag");
  deps.syncapi->QueryAccountData(
      query, [respond](absl::StatusOr<syncapi_v1::QueryAccountDataResponse> r) {
        Json tags = Json::object();
        if (r.ok()) {
          Json stored = Json::parse(r->content_json(), nullptr, false);
          if (stored.is_object() && stored.contains("tags") && stored["tags"].is_object()) {
            tags = stored["tags"];
          }
        } else if (!absl::IsNotFound(r.status())) {
          return respond(StatusResponse(r.status()));
        }
        respond(JsonResponse(200, {{"tags", tags}}));
      });
}

}  // namespace

void AddAccountDataRoutes(Router& router, ClientRouteDeps& deps) {
  const std::string global = absl::StrCat(kClientPrefix, "/user/{userId}/account_data/{type}");
  const std::string room =
      absl::StrCat(kClientPrefix, "/user/{userId}/rooms/{roomId}/account_data/{type}");
  router.Add("PUT", global,
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        PutAccountData(deps, request, device, "", std::move(respond));
                      }));
  router.Add("GET", global,
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        GetAccountData(deps, request, device, "", std::move(respond));
                      }));
  router.Add("PUT", room,
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        PutAccountData(deps, request, device, request.params.at("roomId"),
                                       std::move(respond));
                      }));
  router.Add("GET", room,
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        GetAccountData(deps, request, device, request.params.at("roomId"),
                                       std::move(respond));
                      }));
  const std::string tags = absl::StrCat(kClientPrefix, "/user/{userId}/rooms/{roomId}/tags");
  router.Add("GET", tags,
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        GetTags(deps, request, device, std::move(respond));
                      }));
  for (bool remove : {false, true}) {
    router.Add(remove ? "DELETE" : "PUT", absl::StrCat(tags, "/{tag}"),
               WithAuth(deps.auth, [&deps, remove](RouteRequest request, userapi::v1::Device device,
                                                   Responder respond) {
                 Tag(deps, request, device, remove, std::move(respond));
               }));
  }
}

}  // namespace periscope::gateway
