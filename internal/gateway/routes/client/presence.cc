// Client-server API: GET/PUT /presence/{userId}/status (spec "Presence"). Periscope does not track
// presence (as a Synapse with presence disabled): a client's own status update is checked and
// accepted, nothing is stored, and every known user reads as "offline". /sync's presence section
// stays empty.

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"

namespace periscope::gateway {

void AddPresenceRoutes(Router& router, ClientRouteDeps& deps) {
  const std::string path = absl::StrCat(kClientPrefix, "/presence/{userId}/status");
  router.Add(
      "PUT", path,
      WithAuth(deps.auth, [](RouteRequest request, userapi::v1::Device device, Responder respond) {
        if (request.params.at("userId") != device.user_id()) {
          return respond(MatrixErrorResponse(403, matrix::errcode::kForbidden,
                                             "You cannot set other users' presence"));
        }
        absl::StatusOr<Json> body = ParseJsonObject(request.http.body);
        if (!body.ok()) return respond(StatusResponse(body.status()));
        absl::StatusOr<std::optional<std::string>> presence = OptionalString(*body, "presence");
        if (!presence.ok()) return respond(StatusResponse(presence.status()));
        if (!presence->has_value()) {
          return respond(
              MatrixErrorResponse(400, matrix::errcode::kBadJson, "'presence' is required"));
        }
        if (**presence != "online" && **presence != "offline" && **presence != "unavailable") {
          return respond(MatrixErrorResponse(400, matrix::errcode::kInvalidParam,
                                             "presence must be online, offline or unavailable"));
        }
        absl::StatusOr<std::optional<std::string>> status_msg = OptionalString(*body, "status_msg");
        if (!status_msg.ok()) return respond(StatusResponse(status_msg.status()));
        respond(JsonResponse(200, Json::object()));
      }));
  router.Add(
      "GET", path,
      WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device, Responder respond) {
        // The profile lookup tells a known user (offline) from an unknown one (404).
        userapi::v1::QueryProfileRequest query;
        query.set_user_id(request.params.at("userId"));
        deps.userapi.QueryProfile(query,
                                  [respond](absl::StatusOr<userapi::v1::QueryProfileResponse> r) {
                                    if (!r.ok()) return respond(StatusResponse(r.status()));
                                    respond(JsonResponse(200, {{"presence", "offline"}}));
                                  });
      }));
}

}  // namespace periscope::gateway
