#include "internal/userapi/perform/account_creator.h"

#include "absl/strings/str_cat.h"
#include "internal/userapi/perform/device_issuer.h"
#include "pkg/crypto/random.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::userapi {

namespace errcode = matrix::errcode;

absl::StatusOr<bool> AccountCreator::Available(absl::string_view localpart) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateNewLocalpart(localpart, server_name_));
  absl::StatusOr<bool> exists = store_.AccountExists(localpart);
  if (!exists.ok()) return exists.status();
  return !*exists;
}

absl::StatusOr<v1::PerformAccountCreationResponse> AccountCreator::Create(
    const v1::PerformAccountCreationRequest& request) {
  if (request.account_type() == v1::ACCOUNT_TYPE_GUEST) {
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kGuestAccessForbidden,
                       "Guest accounts are not supported by this server");
  }
  if (!registration_enabled_) {
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                       "Registration is disabled on this server");
  }
  if (request.password().empty()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kMissingParam,
                       "A password is required");
  }
  if (request.password().size() > kMaxPasswordBytes) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kWeakPassword,
                       absl::StrCat("The password is longer than ", kMaxPasswordBytes, " bytes"));
  }
  std::string localpart = request.localpart();
  bool generated = localpart.empty();
  if (generated) {
    localpart = crypto::RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789");
  }
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateNewLocalpart(localpart, server_name_));
  if (!request.device_id().empty()) {
    PERISCOPE_RETURN_IF_ERROR(matrix::ValidateDeviceId(request.device_id()));
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(request.password()));

  v1::PerformAccountCreationResponse response;
  response.set_user_id(matrix::MakeUserId(localpart, server_name_));
  std::optional<IssuedDevice> device;
  if (!request.inhibit_login()) {
    device = IssueDevice(request.device_id(), request.initial_device_display_name());
    response.set_device_id(device->stored.device_id);
    response.set_access_token(device->access_token);
  }
  absl::Status created = store_.CreateAccount(localpart, hash, device ? &device->stored : nullptr,
                                              absl::ToUnixMillis(clock_.Now()));
  if (created.code() == absl::StatusCode::kAlreadyExists) {
    return MatrixError(absl::StatusCode::kAlreadyExists, errcode::kUserInUse,
                       "The desired user ID is already taken");
  }
  PERISCOPE_RETURN_IF_ERROR(created);
  return response;
}

}  // namespace periscope::userapi
