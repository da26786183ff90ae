#include "pkg/matrix/server_keys.h"

#include "gtest/gtest.h"
#include "pkg/matrix/base64.h"
#include "pkg/matrix/json_signing.h"
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

TEST(ServerKeysTest, OldVerifyKeysAreReadAndOneSigningKeyVouchesForTheDocument) {
  SigningKey current = *GenerateSigningKey("new");
  SigningKey old = *GenerateSigningKey("old");
  SigningKey spare = *GenerateSigningKey("spare");
  Json doc = {{"server_name", "example.org"},
              {"verify_keys",
               {{current.key_id, {{"key", EncodeBase64(current.public_key)}}},
                {spare.key_id, {{"key", EncodeBase64(spare.public_key)}}}}},
              {"old_verify_keys",
               {{old.key_id, {{"key", EncodeBase64(old.public_key)}, {"expired_ts", 1000}}}}},
              {"valid_until_ts", 5000}};
  Json signed_doc = *SignJson(doc, "example.org", current);
  absl::StatusOr<ServerKeys> keys = VerifyServerKeys(signed_doc, "example.org");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->verify_keys.size(), 2u);
  EXPECT_EQ(keys->old_verify_keys.at(old.key_id).public_key, old.public_key);
  EXPECT_EQ(keys->old_verify_keys.at(old.key_id).expired, absl::FromUnixMillis(1000));
  // Signed only by a key that is not among its verify keys: refused.
  Json by_old = *SignJson(doc, "example.org", old);
  EXPECT_EQ(VerifyServerKeys(by_old, "example.org").status().code(),
            absl::StatusCode::kUnauthenticated);
  // An old key without expired_ts is malformed.
  Json bad_old = doc;
  bad_old["old_verify_keys"][old.key_id].erase("expired_ts");
  EXPECT_FALSE(VerifyServerKeys(*SignJson(bad_old, "example.org", current), "example.org").ok());
}

}  // namespace
}  // namespace periscope::matrix
