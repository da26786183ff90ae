// Server-server API: GET /_matrix/key/v2/server (and the deprecated /server/{keyId}), the
// server's self-signed key document, as the federationapi produces it.

#include "internal/gateway/routes/federation/federation_routes.h"
#include "internal/gateway/status_mapping.h"

namespace periscope::gateway {

void AddKeyRoutes(Router& router, FederationApiClient& federationapi) {
  auto handler = [&federationapi](RouteRequest, Responder respond) {
    federationapi.GetServerKeys(
        {}, [respond](absl::StatusOr<federationapi_v1::GetServerKeysResponse> r) {
          if (!r.ok()) return respond(StatusResponse(r.status()));
          respond(HttpResponse{200, "application/json", r->response_json(), {}});
        });
  };
  router.Add("GET", "/_matrix/key/v2/server", handler);
  router.Add("GET", "/_matrix/key/v2/server/{key_id}", handler);
}

}  // namespace periscope::gateway
