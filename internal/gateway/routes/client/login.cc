// Client-server API: GET/POST /login with m.login.password (spec: "Login").

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {
namespace {

namespace errcode = matrix::errcode;

absl::Status Unknown(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kUnknown, message);
}

// The login body as a password-login request: m.login.password with identifier m.id.user, or the
// deprecated top-level "user".
absl::StatusOr<userapi::v1::PerformPasswordLoginRequest> ParseLogin(const std::string& raw) {
  PERISCOPE_ASSIGN_OR_RETURN(Json body, ParseJsonObject(raw));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> type, OptionalString(body, "type"));
  if (!type.has_value()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson, "'type' is required");
  }
  if (*type != "m.login.password") return Unknown("Unknown login type");

  std::optional<std::string> user;
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<Json> identifier, OptionalObject(body, "identifier"));
  if (identifier.has_value()) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> id_type,
                               OptionalString(*identifier, "type"));
    if (id_type != "m.id.user") return Unknown("Only the m.id.user identifier is supported");
    PERISCOPE_ASSIGN_OR_RETURN(user, OptionalString(*identifier, "user"));
  } else {
    PERISCOPE_ASSIGN_OR_RETURN(user, OptionalString(body, "user"));
  }
  if (!user.has_value() || user->empty()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kMissingParam,
                       "The user to log in as is missing");
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> password, OptionalString(body, "password"));
  if (!password.has_value()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kMissingParam,
                       "'password' is required");
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> device_id,
                             OptionalString(body, "device_id"));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> display,
                             OptionalString(body, "initial_device_display_name"));
  userapi::v1::PerformPasswordLoginRequest req;
  req.set_user(*user);
  req.set_password(*password);
  req.set_device_id(device_id.value_or(""));
  req.set_initial_device_display_name(display.value_or(""));
  return req;
}

}  // namespace

void AddLoginRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add("GET", absl::StrCat(kClientPrefix, "/login"), [](RouteRequest, Responder respond) {
    respond(JsonResponse(200, Json{{"flows", Json::array({Json{{"type", "m.login.password"}}})}}));
  });
  router.Add("POST", absl::StrCat(kClientPrefix, "/login"),
             [&deps](RouteRequest request, Responder respond) {
               if (auto limited = AuthRateLimited(deps, request.http.remote_address, "")) {
                 return respond(*std::move(limited));
               }
               absl::StatusOr<userapi::v1::PerformPasswordLoginRequest> req =
                   ParseLogin(request.http.body);
               if (!req.ok()) return respond(StatusResponse(req.status()));
               // Per user too, so that guessing one account's password from many addresses is
               // as slow as from one.
               // Keyed by the localpart, however the user is written ("Alice", "@alice:hs"),
               // normalised as userapi's login does.
               std::string user = req->user();
               if (absl::StatusOr<matrix::UserIdParts> parts = matrix::ParseUserId(user);
                   absl::StartsWith(user, "@") && parts.ok()) {
                 user = parts->localpart;
               }
               if (auto limited = AuthRateLimited(deps, "", absl::AsciiStrToLower(user))) {
                 return respond(*std::move(limited));
               }
               deps.userapi.PerformPasswordLogin(
                   *req, [respond, server = deps.server_name](
                             absl::StatusOr<userapi::v1::PerformPasswordLoginResponse> r) {
                     if (!r.ok()) return respond(StatusResponse(r.status()));
                     respond(JsonResponse(200, Json{{"user_id", r->user_id()},
                                                    {"access_token", r->access_token()},
                                                    {"device_id", r->device_id()},
                                                    {"home_server", server}}));
                   });
             });
}

}  // namespace periscope::gateway
