#include "pkg/matrix/user_id.h"

#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

bool IsLocalpartChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '=' ||
         c == '-' || c == '/' || c == '+';
}

}  // namespace

absl::Status ValidateNewLocalpart(absl::string_view localpart, absl::string_view server_name) {
  auto invalid = [](absl::string_view why) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidUsername, why);
  };
  if (localpart.empty()) return invalid("The username must not be empty");
  for (char c : localpart) {
    if (!IsLocalpartChar(c)) {
      return invalid(
          "The username may only contain the characters a-z, 0-9, '.', '_', '=', '-', '/' and "
          "'+'");
    }
  }
  if (localpart.size() + server_name.size() + 2 > kMaxUserIdBytes) {
    return invalid(absl::StrCat("The user id would be longer than ", kMaxUserIdBytes, " bytes"));
  }
  return absl::OkStatus();
}

std::string MakeUserId(absl::string_view localpart, absl::string_view server_name) {
  return absl::StrCat("@", localpart, ":", server_name);
}

absl::StatusOr<UserIdParts> ParseUserId(absl::string_view user_id) {
  auto invalid = [&](absl::string_view why) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       absl::StrCat("Invalid user id: ", why));
  };
  if (user_id.size() > kMaxUserIdBytes) return invalid("longer than 255 bytes");
  if (user_id.empty() || user_id[0] != '@') return invalid("must start with '@'");
  size_t colon = user_id.find(':');
  if (colon == absl::string_view::npos) return invalid("missing ':server_name'");
  if (colon == 1) return invalid("empty localpart");
  if (colon + 1 == user_id.size()) return invalid("empty server name");
  return UserIdParts{std::string(user_id.substr(1, colon - 1)),
                     std::string(user_id.substr(colon + 1))};
}

}  // namespace periscope::matrix
