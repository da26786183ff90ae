#pragma once
// JSON bodies of the Matrix APIs: parsing requests with clear errors, writing responses.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "internal/gateway/http/http_message.h"
#include "nlohmann/json.hpp"

namespace periscope::gateway {

using Json = nlohmann::json;

HttpResponse JsonResponse(int status, const Json& body);
HttpResponse MatrixErrorResponse(int status, absl::string_view errcode, absl::string_view error);
// 429 M_LIMIT_EXCEEDED with retry_after_ms (rounded up to whole milliseconds).
HttpResponse LimitExceededResponse(absl::Duration retry_after, absl::string_view error);

// The body as a JSON object: M_NOT_JSON if it does not parse (or is empty), M_BAD_JSON if it is
// not an object.
absl::StatusOr<Json> ParseJsonObject(const std::string& body);

// Like ParseJsonObject, but an empty body counts as {} (for endpoints whose body is optional).
absl::StatusOr<Json> ParseOptionalJsonObject(const std::string& body);

// obj[key] as a string; nullopt if absent or null; M_BAD_JSON if another type.
absl::StatusOr<std::optional<std::string>> OptionalString(const Json& obj, const char* key);
// obj[key] as a bool; `fallback` if absent or null; M_BAD_JSON if another type.
absl::StatusOr<bool> OptionalBool(const Json& obj, const char* key, bool fallback);
// obj[key] as an object; nullopt if absent or null; M_BAD_JSON if another type.
absl::StatusOr<std::optional<Json>> OptionalObject(const Json& obj, const char* key);

}  // namespace periscope::gateway
