// Client-server API: POST /user/{userId}/filter and GET /user/{userId}/filter/{filterId}.
//
// A filter id here *is* the filter: "f" + URL-safe base64 of its canonical JSON. Nothing is
// stored, every gateway and syncapi understands every id, and GET /sync?filter=<id> needs no
// lookup. Ids are longer than a database key would be; clients treat them as opaque strings.

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/base64.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {

absl::StatusOr<std::string> FilterJsonFromId(absl::string_view filter_id) {
  absl::StatusOr<std::string> json;
  if (absl::StartsWith(filter_id, "f")) json = matrix::DecodeBase64Url(filter_id.substr(1));
  if (!json.ok() || !absl::StartsWith(filter_id, "f")) {
    return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                       absl::StrCat("No filter with id \"", filter_id, "\""));
  }
  return json;
}

void AddFilterRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add(
      "POST", absl::StrCat(kClientPrefix, "/user/{userId}/filter"),
      WithAuth(deps.auth, [](RouteRequest request, userapi::v1::Device device, Responder respond) {
        if (request.params.at("userId") != device.user_id()) {
          return respond(MatrixErrorResponse(403, matrix::errcode::kForbidden,
                                             "Cannot create filters for other users"));
        }
        absl::StatusOr<matrix::Json> filter = matrix::ParseJson(request.http.body);
        if (!filter.ok() || !filter->is_object()) {
          return respond(MatrixErrorResponse(400, matrix::errcode::kInvalidParam,
                                             "The filter must be a JSON object"));
        }
        absl::StatusOr<std::string> canonical = matrix::EncodeCanonicalJson(*filter);
        if (!canonical.ok()) return respond(StatusResponse(canonical.status()));
        respond(JsonResponse(200, Json{{"filter_id", "f" + matrix::EncodeBase64Url(*canonical)}}));
      }));
  router.Add(
      "GET", absl::StrCat(kClientPrefix, "/user/{userId}/filter/{filterId}"),
      WithAuth(deps.auth, [](RouteRequest request, userapi::v1::Device device, Responder respond) {
        if (request.params.at("userId") != device.user_id()) {
          return respond(MatrixErrorResponse(403, matrix::errcode::kForbidden,
                                             "Cannot read other users' filters"));
        }
        absl::StatusOr<std::string> json = FilterJsonFromId(request.params.at("filterId"));
        if (!json.ok()) return respond(StatusResponse(json.status()));
        respond(JsonResponse(200, Json::parse(*json)));
      }));
}

}  // namespace periscope::gateway
