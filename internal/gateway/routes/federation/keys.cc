// Server-server API: our key document (GET /_matrix/key/v2/server, and the deprecated
// /server/{keyId}), and the notary endpoints that serve other servers' keys with our signature
// added (POST /_matrix/key/v2/query, GET /_matrix/key/v2/query/{serverName}). All unauthenticated.

#include "absl/strings/numbers.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/federation/federation_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"

namespace periscope::gateway {

void AddKeyRoutes(Router& router, FederationApiClient& federationapi) {
  auto own_keys = [&federationapi](RouteRequest, Responder respond) {
    federationapi.GetServerKeys({},
                                JsonBodyReply<federationapi_v1::GetServerKeysResponse>(respond));
  };
  router.Add("GET", "/_matrix/key/v2/server", own_keys);
  router.Add("GET", "/_matrix/key/v2/server/{key_id}", own_keys);

  router.Add(
      "POST", "/_matrix/key/v2/query", [&federationapi](RouteRequest request, Responder respond) {
        federationapi_v1::QueryKeysRequest query;
        query.set_request_json(request.http.body);
        federationapi.QueryKeys(query, JsonBodyReply<federationapi_v1::QueryKeysResponse>(respond));
      });
  router.Add("GET", "/_matrix/key/v2/query/{serverName}",
             [&federationapi](RouteRequest request, Responder respond) {
               Json criteria = Json::object();
               if (const std::string* ts = request.http.QueryParam("minimum_valid_until_ts")) {
                 int64_t ms = 0;
                 if (!absl::SimpleAtoi(*ts, &ms)) {
                   return respond(MatrixErrorResponse(400, matrix::errcode::kInvalidParam,
                                                      "minimum_valid_until_ts is not an integer"));
                 }
                 // Applies to every key of the server (the POST form's per-key criteria).
                 criteria["*"] = {{"minimum_valid_until_ts", ms}};
               }
               Json body = {{"server_keys", {{request.params.at("serverName"), criteria}}}};
               federationapi_v1::QueryKeysRequest query;
               query.set_request_json(body.dump());
               federationapi.QueryKeys(query,
                                       JsonBodyReply<federationapi_v1::QueryKeysResponse>(respond));
             });
}

}  // namespace periscope::gateway
