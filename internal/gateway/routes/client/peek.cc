// Client-server API for local peeking (MSC2753): POST /peek/{roomIdOrAlias} and
// POST /rooms/{roomId}/unpeek, under r0, v3 and /unstable/org.matrix.msc2753. The roomserver
// decides (PerformPeek, PerformUnpeek); the gateway checks the caller (no guests), limits the
// rate per device, gathers the via-servers from the body's "servers" and ?server_name=, and
// resolves another server's alias over federation (that server is then asked first).

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/routes/client/remote_alias.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"

namespace periscope::gateway {
namespace {

constexpr const char* kPeekPrefixes[] = {kClientPrefix,
                                         "/_matrix/client/unstable/org.matrix.msc2753"};

std::optional<HttpResponse> GuestRefusal(const userapi::v1::Device& device) {
  if (!device.is_guest()) return std::nullopt;
  return MatrixErrorResponse(403, matrix::errcode::kGuestAccessForbidden,
                             "Guests cannot peek into rooms");
}

// 403 for guests, 429 with retry_after_ms when the device peeks too often; nullopt to go on.
std::optional<HttpResponse> Refusal(ClientRouteDeps& deps, const userapi::v1::Device& device) {
  if (auto guest = GuestRefusal(device)) return guest;
  if (deps.peek_limiter == nullptr) return std::nullopt;
  absl::Duration wait = deps.peek_limiter->Take(device.user_id() + "|" + device.device_id());
  if (wait == absl::ZeroDuration()) return std::nullopt;
  return LimitExceededResponse(wait, "Too many peek requests; slow down");
}

}  // namespace

void AddPeekRoutes(Router& router, ClientRouteDeps& deps) {
  for (const char* prefix : kPeekPrefixes) {
    router.Add("POST", absl::StrCat(prefix, "/peek/{roomIdOrAlias}"),
               WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                           Responder respond) {
                 if (auto refused = Refusal(deps, device)) return respond(*std::move(refused));
                 absl::StatusOr<Json> body = ParseOptionalJsonObject(request.http.body);
                 if (!body.ok()) return respond(StatusResponse(body.status()));
                 roomserver_v1::PerformPeekRequest peek;
                 peek.set_user_id(device.user_id());
                 peek.set_device_id(device.device_id());
                 peek.set_room_id_or_alias(request.params.at("roomIdOrAlias"));
                 if (auto servers = body->find("servers"); servers != body->end()) {
                   if (!servers->is_array()) {
                     return respond(MatrixErrorResponse(400, matrix::errcode::kBadJson,
                                                        "'servers' must be an array of strings"));
                   }
                   for (const Json& server : *servers) {
                     if (!server.is_string()) {
                       return respond(MatrixErrorResponse(400, matrix::errcode::kBadJson,
                                                          "'servers' must be an array of strings"));
                     }
                     peek.add_server_names(server.get<std::string>());
                   }
                 }
                 for (std::string& server : request.http.QueryParams("server_name")) {
                   peek.add_server_names(std::move(server));
                 }
                 // Another server's alias is resolved by that server, which is then asked first.
                 ResolveRemoteAlias(
                     deps, peek.room_id_or_alias(),
                     [&deps, respond, peek](absl::StatusOr<ResolvedRoom> room) mutable {
                       if (!room.ok()) return respond(StatusResponse(room.status()));
                       peek.set_room_id_or_alias(room->room_id);
                       // The alias's servers first, then the client's, each once.
                       std::vector<std::string> via = room->servers;
                       for (const std::string& server : peek.server_names()) {
                         if (std::find(via.begin(), via.end(), server) == via.end()) {
                           via.push_back(server);
                         }
                       }
                       peek.mutable_server_names()->Assign(via.begin(), via.end());
                       deps.roomserver->PerformPeek(
                           peek, [respond](absl::StatusOr<roomserver_v1::PerformPeekResponse> r) {
                             if (!r.ok()) return respond(StatusResponse(r.status()));
                             respond(JsonResponse(200, {{"room_id", r->room_id()},
                                                        {"peek_expiry_ts", r->peek_expiry_ts()}}));
                           });
                     });
               }));
    router.Add("POST", absl::StrCat(prefix, "/rooms/{roomId}/unpeek"),
               WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                           Responder respond) {
                 if (auto guest = GuestRefusal(device)) return respond(*std::move(guest));
                 absl::StatusOr<Json> body = ParseOptionalJsonObject(request.http.body);
                 if (!body.ok()) return respond(StatusResponse(body.status()));
                 roomserver_v1::PerformUnpeekRequest unpeek;
                 unpeek.set_user_id(device.user_id());
                 unpeek.set_device_id(device.device_id());
                 unpeek.set_room_id(request.params.at("roomId"));
                 unpeek.set_reason(roomserver_v1::UNPEEK_REASON_CLIENT);
                 deps.roomserver->PerformUnpeek(
                     unpeek, [respond](absl::StatusOr<roomserver_v1::PerformUnpeekResponse> r) {
                       if (!r.ok()) return respond(StatusResponse(r.status()));
                       respond(JsonResponse(200, Json::object()));
                     });
               }));
  }
}

}  // namespace periscope::gateway
