// Client-server API: GET /account/whoami, POST /logout, POST /logout/all.

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"

namespace periscope::gateway {

void AddAccountRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add("GET", absl::StrCat(kClientPrefix, "/account/whoami"),
             WithAuth(deps.auth, [](RouteRequest, userapi::v1::Device device, Responder respond) {
               respond(JsonResponse(200, Json{{"user_id", device.user_id()},
                                              {"device_id", device.device_id()},
                                              {"is_guest", device.is_guest()}}));
             }));

  router.Add("POST", absl::StrCat(kClientPrefix, "/logout"),
             WithAuth(deps.auth,
                      [&deps](RouteRequest request, userapi::v1::Device device, Responder respond) {
                        if (auto body = ParseOptionalJsonObject(request.http.body); !body.ok()) {
                          return respond(StatusResponse(body.status()));
                        }
                        userapi::v1::PerformLogoutRequest req;
                        req.set_user_id(device.user_id());
                        req.set_device_id(device.device_id());
                        deps.userapi.PerformLogout(
                            req, [&deps, device,
                                  respond](absl::StatusOr<userapi::v1::PerformLogoutResponse> r) {
                              // Evict even on failure: a half-done logout must not leave a usable
                              // cached token.
                              deps.logouts->Announce(device.user_id(), device.device_id());
                              if (!r.ok()) return respond(StatusResponse(r.status()));
                              respond(JsonResponse(200, Json::object()));
                            });
                      }));

  router.Add(
      "POST", absl::StrCat(kClientPrefix, "/logout/all"),
      WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                  Responder respond) {
        if (auto body = ParseOptionalJsonObject(request.http.body); !body.ok()) {
          return respond(StatusResponse(body.status()));
        }
        userapi::v1::PerformLogoutAllRequest req;
        req.set_user_id(device.user_id());
        deps.userapi.PerformLogoutAll(
            req, [&deps, device, respond](absl::StatusOr<userapi::v1::PerformLogoutAllResponse> r) {
              deps.logouts->Announce(device.user_id(), "");
              if (!r.ok()) return respond(StatusResponse(r.status()));
              respond(JsonResponse(200, Json::object()));
            });
      }));
}

}  // namespace periscope::gateway
