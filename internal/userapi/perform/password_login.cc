#include "internal/userapi/perform/password_login.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "internal/userapi/perform/account_creator.h"
#include "internal/userapi/perform/device_issuer.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::userapi {
namespace {

absl::Status InvalidCredentials() {
  // One answer for "no such user" and "wrong password": logins must not reveal which users exist.
  return MatrixError(absl::StatusCode::kPermissionDenied, matrix::errcode::kForbidden,
                     "Invalid username or password");
}

}  // namespace

absl::StatusOr<v1::PerformPasswordLoginResponse> PasswordLogin::Login(
    const v1::PerformPasswordLoginRequest& request) {
  std::string localpart = request.user();
  if (absl::StartsWith(localpart, "@")) {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::UserIdParts parts, matrix::ParseUserId(localpart));
    if (parts.server_name != server_name_) return InvalidCredentials();
    localpart = parts.localpart;
  }
  // Localparts are registered lower-case; accept "Alice" for "alice" as other servers do.
  localpart = absl::AsciiStrToLower(localpart);
  if (localpart.empty() || request.password().size() > kMaxPasswordBytes) {
    return InvalidCredentials();
  }
  if (!request.device_id().empty()) {
    PERISCOPE_RETURN_IF_ERROR(matrix::ValidateDeviceId(request.device_id()));
  }

  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> hash, store_.PasswordHash(localpart));
  if (!hash.has_value()) {
    PERISCOPE_RETURN_IF_ERROR(hasher_.VerifyDummy(request.password()));  // same cost
    return InvalidCredentials();
  }
  PERISCOPE_ASSIGN_OR_RETURN(bool match, hasher_.Verify(*hash, request.password()));
  if (!match) return InvalidCredentials();

  IssuedDevice device = IssueDevice(request.device_id(), request.initial_device_display_name());
  PERISCOPE_RETURN_IF_ERROR(
      store_.UpsertDevice(localpart, device.stored, absl::ToUnixMillis(clock_.Now())));
  v1::PerformPasswordLoginResponse response;
  response.set_user_id(matrix::MakeUserId(localpart, server_name_));
  response.set_device_id(device.stored.device_id);
  response.set_access_token(device.access_token);
  return response;
}

}  // namespace periscope::userapi
