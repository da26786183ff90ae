#pragma once
// Matrix error codes carried inside absl::Status.
//
// Components report failures as absl::Status. Where the client should see a specific Matrix
// errcode (M_FORBIDDEN, M_USER_IN_USE, ...), the status carries it as a payload; the gRPC layer
// moves it into trailing metadata and back, and the gateway turns it into the JSON error body.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope {

// Returns a status with `code`, `message` and the Matrix `errcode` attached.
absl::Status MatrixError(absl::StatusCode code, absl::string_view errcode,
                         absl::string_view message);

// The Matrix errcode attached to `status`, if any.
std::optional<std::string> MatrixErrcode(const absl::Status& status);

// Returns `status` with `errcode` attached (replacing any errcode it had).
absl::Status WithMatrixErrcode(absl::Status status, absl::string_view errcode);

// Returns `status` with more fields of the Matrix error body attached: `fields_json` is a JSON
// object (e.g. {"room_version":"10"} beside M_INCOMPATIBLE_ROOM_VERSION) that the gateway merges
// into {"errcode", "error"}.
absl::Status WithMatrixErrorFields(absl::Status status, absl::string_view fields_json);

// The error body fields attached to `status`, if any.
std::optional<std::string> MatrixErrorFields(const absl::Status& status);

// Evaluates `expr` (an absl::Status) and returns it from the current function if not OK.
#define PERISCOPE_RETURN_IF_ERROR(expr)                    \
  do {                                                     \
    ::absl::Status _periscope_status = (expr);             \
    if (!_periscope_status.ok()) return _periscope_status; \
  } while (0)

#define PERISCOPE_CONCAT_INNER(a, b) a##b
#define PERISCOPE_CONCAT(a, b) PERISCOPE_CONCAT_INNER(a, b)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` may be a declaration ("int x"), which
// parentheses would break.
#define PERISCOPE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(*tmp)

// Evaluates `expr` (an absl::StatusOr<T>); returns its status if not OK, else assigns the value.
#define PERISCOPE_ASSIGN_OR_RETURN(lhs, expr) \
  PERISCOPE_ASSIGN_OR_RETURN_IMPL(PERISCOPE_CONCAT(_periscope_or_, __LINE__), lhs, expr)
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace periscope
