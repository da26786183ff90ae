#include "pkg/status/matrix_status.h"

#include "gtest/gtest.h"

namespace periscope {
namespace {

TEST(MatrixStatusTest, CarriesErrcode) {
  absl::Status s = MatrixError(absl::StatusCode::kPermissionDenied, "M_FORBIDDEN", "no");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "no");
  EXPECT_EQ(MatrixErrcode(s), "M_FORBIDDEN");
}

TEST(MatrixStatusTest, PlainStatusHasNoErrcode) {
  EXPECT_FALSE(MatrixErrcode(absl::InternalError("boom")).has_value());
  EXPECT_FALSE(MatrixErrcode(absl::OkStatus()).has_value());
}

TEST(MatrixStatusTest, OkStatusStaysOk) {
  EXPECT_TRUE(WithMatrixErrcode(absl::OkStatus(), "M_UNKNOWN").ok());
}

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status UseMacros(int x, int* out) {
  PERISCOPE_ASSIGN_OR_RETURN(int h, Half(x));
  PERISCOPE_RETURN_IF_ERROR(h > 10 ? absl::OutOfRangeError("big") : absl::OkStatus());
  *out = h;
  return absl::OkStatus();
}

TEST(MatrixStatusTest, Macros) {
  int out = 0;
  EXPECT_TRUE(UseMacros(4, &out).ok());
  EXPECT_EQ(out, 2);
  EXPECT_EQ(UseMacros(3, &out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(UseMacros(40, &out).code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace periscope
