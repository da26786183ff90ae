#include "internal/userapi/query/access_token_query.h"

#include "internal/userapi/perform/device_issuer.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::userapi {

absl::StatusOr<v1::Device> AccessTokenQuery::Resolve(absl::string_view access_token) {
  auto unknown = [] {
    return MatrixError(absl::StatusCode::kUnauthenticated, matrix::errcode::kUnknownToken,
                       "Unrecognised access token");
  };
  if (access_token.empty() || access_token.size() > 256) return unknown();
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<StoredDevice> stored,
                             store_.DeviceByTokenHash(HashAccessToken(access_token)));
  if (!stored.has_value()) return unknown();
  v1::Device device;
  device.set_user_id(matrix::MakeUserId(stored->localpart, server_name_));
  device.set_device_id(stored->device_id);
  device.set_display_name(stored->display_name);
  return device;
}

}  // namespace periscope::userapi
