// Server-server API joins, leaves and invites: GET /_matrix/federation/v1/make_join/{roomId}/
// {userId}?ver=, PUT /_matrix/federation/v2/send_join/{roomId}/{eventId}, GET /v1/make_leave/
// {roomId}/{userId}, PUT /v2/send_leave/{roomId}/{eventId} and PUT /v2/invite/{roomId}/{eventId},
// handed to the federationapi to authenticate and answer. (v1 send_join and send_leave, whose
// answers are wrapped in [200, {...}], are not served: every homeserver since 2021 tries v2 first.)

#include "internal/gateway/routes/federation/federation_routes.h"

namespace periscope::gateway {

void AddJoinRoutes(Router& router, FederationApiClient& federationapi) {
  router.Add("GET", "/_matrix/federation/v1/make_join/{roomId}/{userId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::MakeJoinRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_user_id(r.params.at("userId"));
               for (const std::string& v : r.http.QueryParams("ver")) {
                 q.add_supported_room_versions(v);
               }
               federationapi.MakeJoin(q,
                                      JsonBodyReply<federationapi_v1::MakeJoinResponse>(respond));
             });
  router.Add("PUT", "/_matrix/federation/v2/send_join/{roomId}/{eventId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::SendJoinRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_event_id(r.params.at("eventId"));
               federationapi.SendJoin(q,
                                      JsonBodyReply<federationapi_v1::SendJoinResponse>(respond));
             });
  router.Add("GET", "/_matrix/federation/v1/make_leave/{roomId}/{userId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::MakeLeaveRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_user_id(r.params.at("userId"));
               federationapi.MakeLeave(q,
                                       JsonBodyReply<federationapi_v1::MakeLeaveResponse>(respond));
             });
  router.Add("PUT", "/_matrix/federation/v2/send_leave/{roomId}/{eventId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::SendLeaveRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_event_id(r.params.at("eventId"));
               federationapi.SendLeave(q,
                                       JsonBodyReply<federationapi_v1::SendLeaveResponse>(respond));
             });
  router.Add("PUT", "/_matrix/federation/v2/invite/{roomId}/{eventId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::InviteRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_event_id(r.params.at("eventId"));
               federationapi.Invite(q, JsonBodyReply<federationapi_v1::InviteResponse>(respond));
             });
}

}  // namespace periscope::gateway
