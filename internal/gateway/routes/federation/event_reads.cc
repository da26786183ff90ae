// Server-server API reads: GET /event/{eventId}, /state/{roomId}?event_id=,
// /state_ids/{roomId}?event_id=, /event_auth/{roomId}/{eventId}, /backfill/{roomId}?v=&limit=
// (each but event_auth also with a trailing slash, which old Synapse versions send), and
// POST /get_missing_events/{roomId}, handed to the federationapi to authenticate and answer.

#include "absl/strings/numbers.h"
#include "internal/gateway/routes/federation/federation_routes.h"

namespace periscope::gateway {
namespace {

constexpr char kPrefix[] = "/_matrix/federation/v1";

std::string EventIdParam(const RouteRequest& request) {
  const std::string* id = request.http.QueryParam("event_id");
  return id == nullptr ? "" : *id;
}

// Adds `pattern` and `pattern/`.
void AddBoth(Router& router, const std::string& pattern, RouteHandler handler) {
  router.Add("GET", pattern, handler);
  router.Add("GET", pattern + "/", handler);
}

}  // namespace

void AddEventReadRoutes(Router& router, FederationApiClient& federationapi) {
  const std::string prefix = kPrefix;
  AddBoth(router, prefix + "/event/{eventId}", [&federationapi](RouteRequest r, Responder respond) {
    federationapi_v1::GetEventRequest q;
    *q.mutable_request() = SignedRequestOf(r.http);
    q.set_event_id(r.params.at("eventId"));
    federationapi.GetEvent(q, JsonBodyReply<federationapi_v1::GetEventResponse>(respond));
  });
  AddBoth(router, prefix + "/state/{roomId}", [&federationapi](RouteRequest r, Responder respond) {
    federationapi_v1::GetStateRequest q;
    *q.mutable_request() = SignedRequestOf(r.http);
    q.set_room_id(r.params.at("roomId"));
    q.set_event_id(EventIdParam(r));
    federationapi.GetState(q, JsonBodyReply<federationapi_v1::GetStateResponse>(respond));
  });
  AddBoth(
      router, prefix + "/state_ids/{roomId}", [&federationapi](RouteRequest r, Responder respond) {
        federationapi_v1::GetStateIdsRequest q;
        *q.mutable_request() = SignedRequestOf(r.http);
        q.set_room_id(r.params.at("roomId"));
        q.set_event_id(EventIdParam(r));
        federationapi.GetStateIds(q, JsonBodyReply<federationapi_v1::GetStateIdsResponse>(respond));
      });
  AddBoth(router, prefix + "/backfill/{roomId}",
          [&federationapi](RouteRequest r, Responder respond) {
            federationapi_v1::BackfillRequest q;
            *q.mutable_request() = SignedRequestOf(r.http);
            q.set_room_id(r.params.at("roomId"));
            for (const std::string& v : r.http.QueryParams("v")) q.add_from_event_ids(v);
            int limit = 0;
            if (const std::string* l = r.http.QueryParam("limit")) {
              if (!absl::SimpleAtoi(*l, &limit)) limit = 0;
            }
            q.set_limit(limit);
            federationapi.Backfill(q, JsonBodyReply<federationapi_v1::BackfillResponse>(respond));
          });
  router.Add("POST", prefix + "/get_missing_events/{roomId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::GetMissingEventsRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               federationapi.GetMissingEvents(
                   q, JsonBodyReply<federationapi_v1::GetMissingEventsResponse>(respond));
             });
  router.Add("GET", prefix + "/event_auth/{roomId}/{eventId}",
             [&federationapi](RouteRequest r, Responder respond) {
               federationapi_v1::GetEventAuthRequest q;
               *q.mutable_request() = SignedRequestOf(r.http);
               q.set_room_id(r.params.at("roomId"));
               q.set_event_id(r.params.at("eventId"));
               federationapi.GetEventAuth(
                   q, JsonBodyReply<federationapi_v1::GetEventAuthResponse>(respond));
             });
}

}  // namespace periscope::gateway
