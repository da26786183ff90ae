#include <unistd.h>

#include "gtest/gtest.h"
#include "pkg/matrix/base64.h"
#include "pkg/matrix/signing_key.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

TEST(UserIdTest, ValidLocalparts) {
  for (absl::string_view ok : {"alice", "a.b_c=d-e/f+g", "0123", "x"}) {
    EXPECT_TRUE(ValidateNewLocalpart(ok, "example.org").ok()) << ok;
  }
}

TEST(UserIdTest, InvalidLocalpartsCarryInvalidUsername) {
  for (absl::string_view bad : {"", "Alice", "al ice", "al:ice", "ali@ce", "élodie"}) {
    absl::Status s = ValidateNewLocalpart(bad, "example.org");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(MatrixErrcode(s), "M_INVALID_USERNAME") << bad;
  }
}

TEST(UserIdTest, LengthLimitCountsTheWholeUserId) {
  std::string server = "example.org";  // "@" + local + ":" + server <= 255
  std::string fits(255 - 2 - server.size(), 'a');
  EXPECT_TRUE(ValidateNewLocalpart(fits, server).ok());
  EXPECT_FALSE(ValidateNewLocalpart(fits + "a", server).ok());
}

TEST(UserIdTest, ParseUserId) {
  absl::StatusOr<UserIdParts> p = ParseUserId("@alice:example.org:8448");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->localpart, "alice");
  EXPECT_EQ(p->server_name, "example.org:8448");
  for (absl::string_view bad : {"alice", "@alice", "@:x", "@a:", ""}) {
    EXPECT_EQ(MatrixErrcode(ParseUserId(bad).status()), "M_INVALID_PARAM") << bad;
  }
}

TEST(Base64Test, RoundTripsUnpadded) {
  EXPECT_EQ(EncodeBase64("\xfb\xff"), "+/8");
  EXPECT_EQ(EncodeBase64Url("\xfb\xff"), "-_8");
  EXPECT_EQ(*DecodeBase64("+/8"), "\xfb\xff");
  EXPECT_EQ(*DecodeBase64Url("-_8"), "\xfb\xff");
  EXPECT_EQ(*DecodeBase64("+/8="), "\xfb\xff");
  EXPECT_FALSE(DecodeBase64("*").ok());
}

TEST(SigningKeyTest, FormatParseRoundTrip) {
  absl::StatusOr<SigningKey> key = GenerateSigningKey("a_1");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->key_id, "ed25519:a_1");
  absl::StatusOr<SigningKey> parsed = ParseSigningKey(FormatSigningKey(*key));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->seed, key->seed);
  EXPECT_EQ(parsed->public_key, key->public_key);
}

TEST(SigningKeyTest, RejectsMalformedFiles) {
  EXPECT_FALSE(ParseSigningKey("").ok());
  EXPECT_FALSE(ParseSigningKey("rsa 1 AAAA").ok());
  EXPECT_FALSE(ParseSigningKey("ed25519 v!1 AAAA").ok());
  EXPECT_FALSE(ParseSigningKey("ed25519 1 AAAA").ok());  // seed too short
  EXPECT_FALSE(GenerateSigningKey("bad version").ok());
}

TEST(SigningKeyTest, SaveRefusesToOverwriteAndLoadNamesPath) {
  std::string path = ::testing::TempDir() + "/key-" + std::to_string(::getpid());
  ::unlink(path.c_str());
  SigningKey key = *GenerateSigningKey("1");
  ASSERT_TRUE(SaveSigningKey(key, path).ok());
  EXPECT_FALSE(SaveSigningKey(key, path).ok());
  EXPECT_EQ(LoadSigningKey(path)->seed, key.seed);
  ::unlink(path.c_str());
  absl::Status missing = LoadSigningKey(path).status();
  EXPECT_NE(missing.message().find(path), std::string::npos);
}

}  // namespace
}  // namespace periscope::matrix
