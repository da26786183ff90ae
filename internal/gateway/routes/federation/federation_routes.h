#pragma once
// Server-server API routes (the federation listener). Each route hands the request, with what
// its signature covers (method, exact target, Authorization headers, body), to the federationapi,
// which authenticates it; the gateway only translates.

#include "internal/gateway/router.h"
#include "internal/gateway/status_mapping.h"
#include "internal/gateway/upstream/federation_api_client.h"

namespace periscope::gateway {

// GET /_matrix/key/v2/server; the notary: POST /_matrix/key/v2/query,
// GET /_matrix/key/v2/query/{serverName}.
void AddKeyRoutes(Router& router, FederationApiClient& federationapi);

// GET /_matrix/federation/v1/version; GET /query/directory, /query/profile.
void AddFederationQueryRoutes(Router& router, FederationApiClient& federationapi);

// PUT /_matrix/federation/v1/send/{txnId}
void AddTransactionRoutes(Router& router, FederationApiClient& federationapi);

// GET /event/{eventId}, /state/{roomId}, /state_ids/{roomId}, /event_auth/{roomId}/{eventId}
void AddEventReadRoutes(Router& router, FederationApiClient& federationapi);

// GET /make_join/{roomId}/{userId}?ver=, PUT /v2/send_join/{roomId}/{eventId},
// GET /make_leave/{roomId}/{userId}, PUT /v2/send_leave/{roomId}/{eventId}
void AddJoinRoutes(Router& router, FederationApiClient& federationapi);

// MSC2444: PUT /_matrix/federation/v1/peek/{roomId}/{peekId}?ver=, POST .../renew, DELETE.
void AddPeekRoutes(Router& router, FederationApiClient& federationapi);

// What the federationapi needs to verify a request's X-Matrix signature.
federationapi_v1::SignedRequest SignedRequestOf(const HttpRequest& http);

// A callback answering 200 with the response's response_json, or the mapped error.
template <typename Response>
Callback<Response> JsonBodyReply(Responder respond) {
  return [respond](absl::StatusOr<Response> r) {
    if (!r.ok()) return respond(StatusResponse(r.status()));
    respond(HttpResponse{200, "application/json", r->response_json(), {}});
  };
}

}  // namespace periscope::gateway
