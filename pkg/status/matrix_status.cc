#include "pkg/status/matrix_status.h"

#include "absl/strings/cord.h"

namespace periscope {
namespace {
constexpr absl::string_view kErrcodePayloadUrl = "type.periscope.dev/matrix-errcode";
constexpr absl::string_view kFieldsPayloadUrl = "type.periscope.dev/matrix-error-fields";
}  // namespace

absl::Status MatrixError(absl::StatusCode code, absl::string_view errcode,
                         absl::string_view message) {
  return WithMatrixErrcode(absl::Status(code, message), errcode);
}

std::optional<std::string> MatrixErrcode(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrcodePayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

absl::Status WithMatrixErrcode(absl::Status status, absl::string_view errcode) {
  if (status.ok()) return status;
  status.SetPayload(kErrcodePayloadUrl, absl::Cord(errcode));
  return status;
}

absl::Status WithMatrixErrorFields(absl::Status status, absl::string_view fields_json) {
  if (status.ok()) return status;
  status.SetPayload(kFieldsPayloadUrl, absl::Cord(fields_json));
  return status;
}

std::optional<std::string> MatrixErrorFields(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kFieldsPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

}  // namespace periscope
