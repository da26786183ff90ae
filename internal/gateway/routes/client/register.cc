// Client-server API: POST /register (with user-interactive auth, m.login.dummy) and
// GET /register/available (spec: "Account registration and management").

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/crypto/random.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {
namespace {

namespace errcode = matrix::errcode;

// The only flow offered: a dummy stage (no captcha, e-mail or terms).
HttpResponse UserInteractiveAuthChallenge(absl::string_view error_code = "",
                                          absl::string_view error = "") {
  Json body = {{"flows", Json::array({Json{{"stages", Json::array({"m.login.dummy"})}}})},
               {"params", Json::object()},
               {"session",
                crypto::RandomString(24, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")}};
  if (!error_code.empty()) {
    body["errcode"] = std::string(error_code);
    body["error"] = std::string(error);
  }
  return JsonResponse(401, body);
}

struct RegisterBody {
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> device_id;
  std::optional<std::string> display_name;
  bool inhibit_login = false;
  std::optional<Json> auth;
};

absl::StatusOr<RegisterBody> ParseRegisterBody(const std::string& raw) {
  PERISCOPE_ASSIGN_OR_RETURN(Json body, ParseJsonObject(raw));
  RegisterBody out;
  PERISCOPE_ASSIGN_OR_RETURN(out.username, OptionalString(body, "username"));
  PERISCOPE_ASSIGN_OR_RETURN(out.password, OptionalString(body, "password"));
  PERISCOPE_ASSIGN_OR_RETURN(out.device_id, OptionalString(body, "device_id"));
  PERISCOPE_ASSIGN_OR_RETURN(out.display_name, OptionalString(body, "initial_device_display_name"));
  PERISCOPE_ASSIGN_OR_RETURN(out.inhibit_login, OptionalBool(body, "inhibit_login", false));
  PERISCOPE_ASSIGN_OR_RETURN(out.auth, OptionalObject(body, "auth"));
  return out;
}

void Register(ClientRouteDeps& deps, RouteRequest request, Responder respond) {
  const std::string* kind = request.http.QueryParam("kind");
  if (kind != nullptr && *kind == "guest") {
    return respond(MatrixErrorResponse(403, errcode::kGuestAccessForbidden,
                                       "Guest access is not supported by this server"));
  }
  if (kind != nullptr && *kind != "user") {
    return respond(MatrixErrorResponse(400, errcode::kInvalidParam, "kind must be user or guest"));
  }
  absl::StatusOr<RegisterBody> body = ParseRegisterBody(request.http.body);
  if (!body.ok()) return respond(StatusResponse(body.status()));

  if (!body->auth.has_value()) {
    // First round of user-interactive auth. Check the username now, so that a client learns
    // "taken" or "invalid" before completing any stage.
    if (!body->username.has_value()) return respond(UserInteractiveAuthChallenge());
    userapi::v1::QueryAccountAvailabilityRequest q;
    q.set_localpart(*body->username);
    return deps.userapi.QueryAccountAvailability(
        q, [respond](absl::StatusOr<userapi::v1::QueryAccountAvailabilityResponse> r) {
          if (!r.ok()) return respond(StatusResponse(r.status()));
          if (!r->available()) {
            return respond(MatrixErrorResponse(400, errcode::kUserInUse,
                                               "The desired user ID is already taken"));
          }
          respond(UserInteractiveAuthChallenge());
        });
  }
  auto type = body->auth->find("type");
  if (type == body->auth->end() || !type->is_string() || *type != "m.login.dummy") {
    return respond(UserInteractiveAuthChallenge(errcode::kUnrecognized,
                                                "Only m.login.dummy authentication is supported"));
  }

  userapi::v1::PerformAccountCreationRequest create;
  create.set_localpart(body->username.value_or(""));
  create.set_password(body->password.value_or(""));
  create.set_account_type(userapi::v1::ACCOUNT_TYPE_USER);
  create.set_inhibit_login(body->inhibit_login);
  create.set_device_id(body->device_id.value_or(""));
  create.set_initial_device_display_name(body->display_name.value_or(""));
  deps.userapi.PerformAccountCreation(
      create, [respond, server = deps.server_name](
                  absl::StatusOr<userapi::v1::PerformAccountCreationResponse> r) {
        if (!r.ok()) return respond(StatusResponse(r.status()));
        Json out = {{"user_id", r->user_id()}, {"home_server", server}};
        if (!r->access_token().empty()) {
          out["access_token"] = r->access_token();
          out["device_id"] = r->device_id();
        }
        respond(JsonResponse(200, out));
      });
}

void Available(ClientRouteDeps& deps, RouteRequest request, Responder respond) {
  const std::string* username = request.http.QueryParam("username");
  if (username == nullptr) {
    return respond(MatrixErrorResponse(400, errcode::kMissingParam, "username is required"));
  }
  userapi::v1::QueryAccountAvailabilityRequest q;
  q.set_localpart(*username);
  deps.userapi.QueryAccountAvailability(
      q, [respond](absl::StatusOr<userapi::v1::QueryAccountAvailabilityResponse> r) {
        if (!r.ok()) return respond(StatusResponse(r.status()));
        if (!r->available()) {
          return respond(MatrixErrorResponse(400, errcode::kUserInUse,
                                             "The desired user ID is already taken"));
        }
        respond(JsonResponse(200, Json{{"available", true}}));
      });
}

}  // namespace

void AddRegisterRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add("POST", absl::StrCat(kClientPrefix, "/register"),
             [&deps](RouteRequest r, Responder respond) {
               if (auto limited = AuthRateLimited(deps, r.http.remote_address, "")) {
                 return respond(*std::move(limited));
               }
               Register(deps, std::move(r), respond);
             });
  router.Add(
      "GET", absl::StrCat(kClientPrefix, "/register/available"),
      [&deps](RouteRequest r, Responder respond) { Available(deps, std::move(r), respond); });
}

}  // namespace periscope::gateway
