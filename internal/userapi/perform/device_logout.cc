#include "internal/userapi/perform/device_logout.h"

#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::userapi {

absl::StatusOr<std::string> DeviceLogout::LocalLocalpart(absl::string_view user_id) const {
  PERISCOPE_ASSIGN_OR_RETURN(matrix::UserIdParts parts, matrix::ParseUserId(user_id));
  if (parts.server_name != server_name_) {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam,
                       "Not a local user");
  }
  return parts.localpart;
}

absl::Status DeviceLogout::Logout(absl::string_view user_id, absl::string_view device_id) {
  PERISCOPE_ASSIGN_OR_RETURN(std::string localpart, LocalLocalpart(user_id));
  absl::Status s = store_.DeleteDevice(localpart, device_id);
  if (s.code() == absl::StatusCode::kNotFound) {
    return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound, "No such device");
  }
  return s;
}

absl::StatusOr<int> DeviceLogout::LogoutAll(absl::string_view user_id) {
  PERISCOPE_ASSIGN_OR_RETURN(std::string localpart, LocalLocalpart(user_id));
  return store_.DeleteAllDevices(localpart);
}

}  // namespace periscope::userapi
