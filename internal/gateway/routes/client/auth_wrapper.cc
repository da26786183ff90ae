#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"

namespace periscope::gateway {

RouteHandler WithAuth(Authenticator& auth, AuthedHandler handler) {
  return [&auth, handler = std::move(handler)](RouteRequest request, Responder respond) {
    // The request moves into the callback; Authenticate reads it before that happens.
    auto shared = std::make_shared<RouteRequest>(std::move(request));
    auth.Authenticate(shared->http,
                      [shared, handler, respond](absl::StatusOr<userapi::v1::Device> device) {
                        if (!device.ok()) return respond(StatusResponse(device.status()));
                        handler(std::move(*shared), *std::move(device), respond);
                      });
  };
}

}  // namespace periscope::gateway
