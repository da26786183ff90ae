#include "internal/userapi/perform/profile_editor.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::userapi {
namespace {

namespace errcode = matrix::errcode;

absl::Status NoSuchUser(absl::string_view user_id) {
  return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                     absl::StrCat("No profile for ", user_id));
}

}  // namespace

absl::StatusOr<std::string> ProfileEditor::LocalLocalpart(absl::string_view user_id) {
  absl::StatusOr<matrix::UserIdParts> parts = matrix::ParseUserId(user_id);
  if (!parts.ok()) return parts.status();
  if (parts->server_name != server_name_) return NoSuchUser(user_id);
  return parts->localpart;
}

absl::StatusOr<v1::QueryProfileResponse> ProfileEditor::Query(
    const v1::QueryProfileRequest& request) {
  PERISCOPE_ASSIGN_OR_RETURN(std::string localpart, LocalLocalpart(request.user_id()));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<StoredProfile> profile, store_.Profile(localpart));
  if (!profile) return NoSuchUser(request.user_id());
  v1::QueryProfileResponse response;
  if (profile->displayname) response.set_displayname(*profile->displayname);
  if (profile->avatar_url) response.set_avatar_url(*profile->avatar_url);
  return response;
}

absl::StatusOr<v1::PerformSetProfileResponse> ProfileEditor::Set(
    const v1::PerformSetProfileRequest& request) {
  PERISCOPE_ASSIGN_OR_RETURN(std::string localpart, LocalLocalpart(request.user_id()));
  StoredProfile change;
  if (request.has_displayname()) {
    if (request.displayname().size() > kMaxDisplayNameBytes) {
      return MatrixError(
          absl::StatusCode::kInvalidArgument, errcode::kTooLarge,
          absl::StrCat("displayname is longer than ", kMaxDisplayNameBytes, " bytes"));
    }
    change.displayname = request.displayname();
  }
  if (request.has_avatar_url()) {
    if (!request.avatar_url().empty() && !absl::StartsWith(request.avatar_url(), "mxc://")) {
      return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                         "avatar_url must be an mxc:// URL");
    }
    change.avatar_url = request.avatar_url();
  }
  absl::Status updated = store_.UpdateProfile(localpart, change);
  if (absl::IsNotFound(updated)) return NoSuchUser(request.user_id());
  PERISCOPE_RETURN_IF_ERROR(updated);
  return v1::PerformSetProfileResponse();
}

}  // namespace periscope::userapi
