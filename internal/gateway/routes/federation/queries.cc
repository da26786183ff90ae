// Server-server API: GET /_matrix/federation/v1/version (unauthenticated), and the signed
// queries GET /query/directory?room_alias= and GET /query/profile?user_id=&field=.

#include "absl/strings/str_split.h"
#include "internal/gateway/routes/federation/federation_routes.h"

namespace periscope::gateway {

federationapi_v1::SignedRequest SignedRequestOf(const HttpRequest& http) {
  federationapi_v1::SignedRequest out;
  out.set_method(http.method);
  out.set_uri(http.target);
  if (const std::string* auth = http.Header("authorization")) {
    for (absl::string_view value : absl::StrSplit(*auth, '\n')) {
      out.add_authorization(std::string(value));
    }
  }
  out.set_content(http.body);
  return out;
}

void AddFederationQueryRoutes(Router& router, FederationApiClient& federationapi) {
  router.Add(
      "GET", "/_matrix/federation/v1/version", [&federationapi](RouteRequest, Responder respond) {
        federationapi.GetVersion({}, JsonBodyReply<federationapi_v1::GetVersionResponse>(respond));
      });
  router.Add("GET", "/_matrix/federation/v1/query/directory",
             [&federationapi](RouteRequest request, Responder respond) {
               federationapi_v1::QueryDirectoryRequest query;
               *query.mutable_request() = SignedRequestOf(request.http);
               if (const std::string* alias = request.http.QueryParam("room_alias")) {
                 query.set_room_alias(*alias);
               }
               federationapi.QueryDirectory(
                   query, JsonBodyReply<federationapi_v1::QueryDirectoryResponse>(respond));
             });
  router.Add("GET", "/_matrix/federation/v1/query/profile",
             [&federationapi](RouteRequest request, Responder respond) {
               federationapi_v1::QueryProfileRequest query;
               *query.mutable_request() = SignedRequestOf(request.http);
               if (const std::string* user = request.http.QueryParam("user_id")) {
                 query.set_user_id(*user);
               }
               if (const std::string* field = request.http.QueryParam("field")) {
                 query.set_field(*field);
               }
               federationapi.QueryProfile(
                   query, JsonBodyReply<federationapi_v1::QueryProfileResponse>(respond));
             });
}

}  // namespace periscope::gateway
