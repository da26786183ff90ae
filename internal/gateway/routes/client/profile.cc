// Client-server API: GET /profile/{userId}, GET/PUT /profile/{userId}/displayname and
// /profile/{userId}/avatar_url (spec "Profiles"). The profile of a user on another server is
// asked of that server (through the federationsender).

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/user_id.h"

namespace periscope::gateway {
namespace {

Json ProfileJson(const userapi::v1::QueryProfileResponse& profile) {
  Json out = Json::object();
  if (profile.has_displayname()) out["displayname"] = profile.displayname();
  if (profile.has_avatar_url()) out["avatar_url"] = profile.avatar_url();
  return out;
}

// Looks up a profile: a local user's from the userapi, a remote user's from their server.
void LookUpProfile(ClientRouteDeps& deps, const std::string& user_id, const std::string& field,
                   std::function<void(absl::StatusOr<Json>)> done) {
  absl::StatusOr<matrix::UserIdParts> parts = matrix::ParseUserId(user_id);
  if (parts.ok() && parts->server_name != deps.server_name && deps.federationsender != nullptr) {
    federationsender::v1::QueryRemoteProfileRequest query;
    query.set_user_id(user_id);
    query.set_field(field);
    deps.federationsender->QueryRemoteProfile(
        query, [done](absl::StatusOr<federationsender::v1::QueryRemoteProfileResponse> r) {
          if (!r.ok()) return done(r.status());
          Json out = Json::object();
          if (r->has_displayname()) out["displayname"] = r->displayname();
          if (r->has_avatar_url()) out["avatar_url"] = r->avatar_url();
          done(out);
        });
    return;
  }
  userapi::v1::QueryProfileRequest query;
  query.set_user_id(user_id);
  deps.userapi.QueryProfile(query, [done](absl::StatusOr<userapi::v1::QueryProfileResponse> r) {
    if (!r.ok()) return done(r.status());
    done(ProfileJson(*r));
  });
}

}  // namespace

std::string ProfileMemberContent(const userapi::v1::QueryProfileResponse& profile) {
  return ProfileJson(profile).dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AddProfileRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add("GET", absl::StrCat(kClientPrefix, "/profile/{userId}"),
             [&deps](RouteRequest request, Responder respond) {
               LookUpProfile(deps, request.params.at("userId"), "",
                             [respond](absl::StatusOr<Json> r) {
                               if (!r.ok()) return respond(StatusResponse(r.status()));
                               respond(JsonResponse(200, *r));
                             });
             });
  for (const char* field : {"displayname", "avatar_url"}) {
    const std::string path = absl::StrCat(kClientPrefix, "/profile/{userId}/", field);
    const std::string key = field;
    router.Add("GET", path, [&deps, key](RouteRequest request, Responder respond) {
      LookUpProfile(deps, request.params.at("userId"), key, [respond, key](absl::StatusOr<Json> r) {
        if (!r.ok()) return respond(StatusResponse(r.status()));
        Json out = Json::object();
        if (r->contains(key)) out[key] = (*r)[key];
        respond(JsonResponse(200, out));
      });
    });
    router.Add("PUT", path,
               WithAuth(deps.auth, [&deps, key](RouteRequest request, userapi::v1::Device device,
                                                Responder respond) {
                 if (request.params.at("userId") != device.user_id()) {
                   return respond(MatrixErrorResponse(403, matrix::errcode::kForbidden,
                                                      "You cannot change other users' profiles"));
                 }
                 absl::StatusOr<Json> body = ParseJsonObject(request.http.body);
                 if (!body.ok()) return respond(StatusResponse(body.status()));
                 absl::StatusOr<std::optional<std::string>> value =
                     OptionalString(*body, key.c_str());
                 if (!value.ok()) return respond(StatusResponse(value.status()));
                 userapi::v1::PerformSetProfileRequest set;
                 set.set_user_id(device.user_id());
                 if (key == "displayname") set.set_displayname(value->value_or(""));
                 if (key == "avatar_url") set.set_avatar_url(value->value_or(""));
                 deps.userapi.PerformSetProfile(
                     set, [respond](absl::StatusOr<userapi::v1::PerformSetProfileResponse> r) {
                       if (!r.ok()) return respond(StatusResponse(r.status()));
                       respond(JsonResponse(200, Json::object()));
                     });
               }));
  }
}

}  // namespace periscope::gateway
