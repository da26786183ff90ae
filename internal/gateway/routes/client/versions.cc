// Client-server API: GET /_matrix/client/versions (spec: "Server discovery / API versions").

#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"

namespace periscope::gateway {

void AddVersionsRoutes(Router& router) {
  router.Add("GET", "/_matrix/client/versions", [](RouteRequest, Responder respond) {
    static const Json kBody = {
        {"versions",
         {"r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1", "v1.1",
          "v1.2", "v1.3", "v1.4", "v1.5", "v1.6"}},
        // Peeking, local (MSC2753) and into other servers' rooms (MSC2444).
        {"unstable_features", {{"org.matrix.msc2753", true}, {"org.matrix.msc2444", true}}}};
    respond(JsonResponse(200, kBody));
  });
}

}  // namespace periscope::gateway
