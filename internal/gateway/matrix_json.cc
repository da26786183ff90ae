#include "internal/gateway/matrix_json.h"

#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {
namespace {

absl::Status BadJson(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kBadJson, message);
}

absl::Status WrongType(const char* key, absl::string_view expected) {
  return BadJson(absl::StrCat("'", key, "' must be ", expected));
}

}  // namespace

HttpResponse JsonResponse(int status, const Json& body) {
  // `replace` keeps a response from throwing on invalid UTF-8 that came from elsewhere.
  return HttpResponse{
      status, "application/json", body.dump(-1, ' ', false, Json::error_handler_t::replace), {}};
}

HttpResponse MatrixErrorResponse(int status, absl::string_view errcode, absl::string_view error) {
  return JsonResponse(status,
                      Json{{"errcode", std::string(errcode)}, {"error", std::string(error)}});
}

absl::StatusOr<Json> ParseJsonObject(const std::string& body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kNotJson,
                       "The request body is not valid JSON");
  }
  if (!parsed.is_object()) return BadJson("The request body must be a JSON object");
  return parsed;
}

absl::StatusOr<Json> ParseOptionalJsonObject(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  return ParseJsonObject(body);
}

absl::StatusOr<std::optional<std::string>> OptionalString(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return WrongType(key, "a string");
  return std::optional<std::string>(it->get<std::string>());
}

absl::StatusOr<bool> OptionalBool(const Json& obj, const char* key, bool fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return WrongType(key, "a boolean");
  return it->get<bool>();
}

absl::StatusOr<std::optional<Json>> OptionalObject(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<Json>();
  if (!it->is_object()) return WrongType(key, "an object");
  return std::optional<Json>(*it);
}

HttpResponse LimitExceededResponse(absl::Duration retry_after, absl::string_view error) {
  return JsonResponse(429, Json{{"errcode", std::string(matrix::errcode::kLimitExceeded)},
                                {"error", std::string(error)},
                                {"retry_after_ms", absl::ToInt64Milliseconds(absl::Ceil(
                                                       retry_after, absl::Milliseconds(1)))}});
}

}  // namespace periscope::gateway
