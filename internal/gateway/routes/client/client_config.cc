// Client-server API endpoints a stock client calls at start-up, answered truthfully for what
// Periscope supports: GET /capabilities, GET /pushrules/ (an empty rule set: Periscope sends no
// push notifications), GET /voip/turnServer (none configured), GET /room_keys/version (no backup).

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "pkg/matrix/errcodes.h"

namespace periscope::gateway {

void AddClientConfigRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add("GET", absl::StrCat(kClientPrefix, "/capabilities"),
             WithAuth(deps.auth, [](RouteRequest, userapi::v1::Device, Responder respond) {
               static const Json kBody = {{"capabilities",
                                           {{"m.room_versions",
                                             {{"default", "12"},
                                              {"available",
                                               {{"4", "stable"},
                                                {"5", "stable"},
                                                {"6", "stable"},
                                                {"7", "stable"},
                                                {"8", "stable"},
                                                {"9", "stable"},
                                                {"10", "stable"},
                                                {"11", "stable"},
                                                {"12", "stable"}}}}},
                                            {"m.change_password", {{"enabled", false}}},
                                            {"m.set_displayname", {{"enabled", false}}},
                                            {"m.set_avatar_url", {{"enabled", false}}},
                                            {"m.3pid_changes", {{"enabled", false}}}}}};
               respond(JsonResponse(200, kBody));
             }));
  router.Add("GET", absl::StrCat(kClientPrefix, "/pushrules/"),
             WithAuth(deps.auth, [](RouteRequest, userapi::v1::Device, Responder respond) {
               static const Json kBody = {{"global",
                                           {{"override", Json::array()},
                                            {"content", Json::array()},
                                            {"room", Json::array()},
                                            {"sender", Json::array()},
                                            {"underride", Json::array()}}}};
               respond(JsonResponse(200, kBody));
             }));
  router.Add("GET", absl::StrCat(kClientPrefix, "/voip/turnServer"),
             WithAuth(deps.auth, [](RouteRequest, userapi::v1::Device, Responder respond) {
               respond(JsonResponse(200, Json::object()));  // no TURN server configured
             }));
  router.Add("GET", absl::StrCat(kClientPrefix, "/room_keys/version"),
             WithAuth(deps.auth, [](RouteRequest, userapi::v1::Device, Responder respond) {
               respond(MatrixErrorResponse(404, matrix::errcode::kNotFound, "No current backup"));
             }));
}

}  // namespace periscope::gateway
