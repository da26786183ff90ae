#include "pkg/status/matrix_status.h"

#include "absl/strings/cord.h"

namespace periscope {
namespace {
constexpr absl::string_view kErrcodePayloadUrl = "type.periscope.dev/matrix-errcode";
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

}  // namespace periscope
