#include "pkg/matrix/x_matrix.h"

#include "gtest/gtest.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

SigningKey Key() {
  return *ParseSigningKey("ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
}

TEST(XMatrixTest, BuildParseVerifyRoundTrip) {
  SigningKey key = Key();
  std::optional<Json> body = *ParseJson(R"({"pdus":[]})");
  absl::StatusOr<std::string> header = BuildXMatrixAuthorization(
      "PUT", "/_matrix/federation/v1/send/1", "origin.org", "dest.org", body, key);
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(header->starts_with(
      "X-Matrix origin=\"origin.org\",destination=\"dest.org\",key=\"ed25519:1\",sig=\""));
  absl::StatusOr<XMatrixAuthorization> auth = ParseXMatrixAuthorization(*header);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE(
      VerifyXMatrix(*auth, "PUT", "/_matrix/federation/v1/send/1", body, "dest.org", key.public_key)
          .ok());
  // Any change to what is signed fails.
  EXPECT_FALSE(VerifyXMatrix(*auth, "POST", "/_matrix/federation/v1/send/1", body, "dest.org",
                             key.public_key)
                   .ok());
  EXPECT_FALSE(
      VerifyXMatrix(*auth, "PUT", "/_matrix/federation/v1/send/2", body, "dest.org", key.public_key)
          .ok());
  EXPECT_FALSE(VerifyXMatrix(*auth, "PUT", "/_matrix/federation/v1/send/1", std::nullopt,
                             "dest.org", key.public_key)
                   .ok());
  absl::Status wrong_dest = VerifyXMatrix(*auth, "PUT", "/_matrix/federation/v1/send/1", body,
                                          "other.org", key.public_key);
  EXPECT_EQ(wrong_dest.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(MatrixErrcode(wrong_dest), "M_UNAUTHORIZED");
}

TEST(XMatrixTest, VerifiesWithoutDestinationHeader) {
  SigningKey key = Key();
  std::string header =
      *BuildXMatrixAuthorization("GET", "/x", "o.org", "us.org", std::nullopt, key);
  XMatrixAuthorization auth = *ParseXMatrixAuthorization(header);
  auth.destination.clear();  // an older sender: the destination is still part of what it signed
  EXPECT_TRUE(VerifyXMatrix(auth, "GET", "/x", std::nullopt, "us.org", key.public_key).ok());
}

TEST(XMatrixTest, ParsesTheVariantsServersSend) {
  absl::StatusOr<XMatrixAuthorization> a = ParseXMatrixAuthorization(
      R"(x-matrix  SIG="abc" ,Key=ed25519:1, origin=example.org:8448,destination="d.org")");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->origin, "example.org:8448");
  EXPECT_EQ(a->key_id, "ed25519:1");
  EXPECT_EQ(a->signature, "abc");
  EXPECT_EQ(a->destination, "d.org");
  absl::StatusOr<XMatrixAuthorization> b =
      ParseXMatrixAuthorization(R"(X-Matrix origin="o",key="k",sig="s",future="x")");
  EXPECT_TRUE(b.ok());
}

TEST(XMatrixTest, RefusesMalformedHeaders) {
  for (const char* bad :
       {"", "Bearer abc", "X-Matrix", "X-Matrixorigin=a", "X-Matrix origin=o,key=k",
        "X-Matrix origin=o,sig=s", "X-Matrix key=k,sig=s", "X-Matrix origin=\"o,key=k,sig=s",
        "X-Matrix origin"}) {
    absl::Status s = ParseXMatrixAuthorization(bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << bad;
    EXPECT_EQ(MatrixErrcode(s), "M_UNAUTHORIZED") << bad;
  }
}

}  // namespace
}  // namespace periscope::matrix
