// Server-server peeking (MSC2444): PUT /_matrix/federation/v1/peek/{roomId}/{peekId}?ver= starts
// (or renews) another server's peek and answers the room's snapshot, POST .../renew renews it
// ({"renewal_interval"}), DELETE ends it ({}). The federationapi authenticates and answers.

#include "internal/gateway/routes/federation/federation_routes.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::gateway {

void AddPeekRoutes(Router& router, FederationApiClient& federationapi) {
  router.Add("PUT", "/_matrix/federation/v1/peek/{roomId}/{peekId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::PeekRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_peek_id(r.params.at("peekId"));
               for (const std::string& v : r.http.QueryParams("ver")) {
                 q.add_supported_room_versions(v);
               }
               federationapi.Peek(q, JsonBodyReply<federationapi_v1::PeekResponse>(respond));
             });
  router.Add("POST", "/_matrix/federation/v1/peek/{roomId}/{peekId}/renew",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::RenewPeekRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_peek_id(r.params.at("peekId"));
               federationapi.RenewPeek(
                   q, [respond](absl::StatusOr<federationapi_v1::RenewPeekResponse> renewed) {
                     if (!renewed.ok()) return respond(StatusResponse(renewed.status()));
                     matrix::Json body{{"renewal_interval", renewed->renewal_interval_ms()}};
                     respond(HttpResponse{200, "application/json", body.dump(), {}});
                   });
             });
  router.Add("DELETE", "/_matrix/federation/v1/peek/{roomId}/{peekId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::UnpeekRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_peek_id(r.params.at("peekId"));
               federationapi.Unpeek(
                   q, [respond](absl::StatusOr<federationapi_v1::UnpeekResponse> done) {
                     if (!done.ok()) return respond(StatusResponse(done.status()));
                     respond(HttpResponse{200, "application/json", "{}", {}});
                   });
             });
}

}  // namespace periscope::gateway
