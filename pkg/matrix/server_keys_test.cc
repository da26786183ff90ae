#include "pkg/matrix/server_keys.h"

#include "gtest/gtest.h"
#include "pkg/matrix/base64.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

TEST(ServerKeysTest, BuildThenVerify) {
  SigningKey key = *GenerateSigningKey("abc");
  absl::Time until = absl::FromUnixMillis(1'652'262'000'000);
  absl::StatusOr<Json> doc = BuildServerKeys("example.org", key, until);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["valid_until_ts"], 1'652'262'000'000);
  EXPECT_EQ((*doc)["verify_keys"]["ed25519:abc"]["key"], EncodeBase64(key.public_key));
  EXPECT_TRUE((*doc)["signatures"]["example.org"].contains("ed25519:abc"));
  absl::StatusOr<ServerKeys> keys = VerifyServerKeys(*doc, "example.org");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->verify_keys.at("ed25519:abc"), key.public_key);
  EXPECT_EQ(keys->valid_until, until);
}

TEST(ServerKeysTest, RejectsForgedOrMismatchedDocuments) {
  SigningKey key = *GenerateSigningKey("abc");
  Json doc = *BuildServerKeys("example.org", key, absl::FromUnixMillis(1));
  EXPECT_FALSE(VerifyServerKeys(doc, "other.org").ok());
  Json forged = doc;
  forged["verify_keys"]["ed25519:abc"]["key"] = EncodeBase64(GenerateSigningKey("x")->public_key);
  EXPECT_EQ(VerifyServerKeys(forged, "example.org").status().code(),
            absl::StatusCode::kUnauthenticated);
  Json extended = doc;
  extended["valid_until_ts"] = 99999999999999;
  EXPECT_FALSE(VerifyServerKeys(extended, "example.org").ok());
  Json no_until = doc;
  no_until.erase("valid_until_ts");
  EXPECT_FALSE(VerifyServerKeys(no_until, "example.org").ok());
  EXPECT_FALSE(VerifyServerKeys(Json::array(), "example.org").ok());
}

}  // namespace
}  // namespace periscope::matrix
