#include "internal/gateway/status_mapping.h"

#include "internal/gateway/matrix_json.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {

namespace errcode = matrix::errcode;

HttpError MapStatus(const absl::Status& status) {
  std::optional<std::string> given = MatrixErrcode(status);
  std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return {200, "", ""};
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      if (given == errcode::kTooLarge) return {413, *given, message};
      return {400, given.value_or(std::string(errcode::kInvalidParam)), message};
    case absl::StatusCode::kUnauthenticated:
      return {401, given.value_or(std::string(errcode::kUnknownToken)), message};
    case absl::StatusCode::kPermissionDenied:
      return {403, given.value_or(std::string(errcode::kForbidden)), message};
    case absl::StatusCode::kNotFound:
      return {404, given.value_or(std::string(errcode::kNotFound)), message};
    case absl::StatusCode::kAborted:
      return {409, given.value_or(std::string(errcode::kUnknown)), message};
    case absl::StatusCode::kResourceExhausted:
      return {429, given.value_or(std::string(errcode::kLimitExceeded)), message};
    case absl::StatusCode::kUnimplemented:
      return {501, std::string(errcode::kUnrecognized), "This endpoint is not implemented yet"};
    case absl::StatusCode::kUnavailable:
      // With an errcode: another server could not be reached or gave an answer that cannot be
      // used (a join, a peek): 502, and the message says which.
      if (given) return {502, *given, message};
      // A component (or its database) is down or overloaded; the client should retry.
      return {503, std::string(errcode::kUnknown),
              "A server component is unavailable; try again shortly"};
    case absl::StatusCode::kCancelled:
      // Only the gateway cancels its upstream calls: the client hung up (nobody reads this), or
      // the gateway is shutting down and the client should retry elsewhere.
      return {503, std::string(errcode::kUnknown), "The request was cancelled; retry"};
    case absl::StatusCode::kDeadlineExceeded:
      return {504, std::string(errcode::kUnknown), "A server component did not answer in time"};
    default:  // Unknown, Internal, DataLoss
      break;
  }
  return {500, std::string(errcode::kUnknown), "Internal server error"};
}

HttpResponse StatusResponse(const absl::Status& status) {
  HttpError e = MapStatus(status);
  if (e.status >= 500 && status.code() != absl::StatusCode::kCancelled) {
    logging::Warn("gateway.upstream_error", {{"status", e.status}, {"error", status}});
  }
  // Fields the spec adds to some errors (room_version beside M_INCOMPATIBLE_ROOM_VERSION); never
  // on a server-side failure, whose details stay in the log.
  if (std::optional<std::string> fields = MatrixErrorFields(status); fields && e.status < 500) {
    Json body = Json::parse(*fields, nullptr, /*allow_exceptions=*/false);
    if (body.is_object()) {
      body["errcode"] = e.errcode;
      body["error"] = e.message;
      return JsonResponse(e.status, body);
    }
  }
  return MatrixErrorResponse(e.status, e.errcode, e.message);
}

}  // namespace periscope::gateway
