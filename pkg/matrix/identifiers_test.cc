#include "pkg/matrix/identifiers.h"

#include "gtest/gtest.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

TEST(IdentifiersTest, ServerNames) {
  for (const char* ok :
       {"matrix.org", "matrix.org:8888", "1.2.3.4", "1.2.3.4:1234", "[1234:5678::abcd]",
        "[1234:5678::abcd]:5678", "localhost", "a-b.c", "[::1]:8448", "[::ffff:1.2.3.4]"}) {
    EXPECT_TRUE(ValidateServerName(ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "matrix.org:", "matrix.org:99999", "matrix.org:12a", "[1234::", "[::1]x",
        "exa mple.org", "ex_ample.org", "[zz::1]", ":80", "matrix.org:123456"}) {
    absl::Status s = ValidateServerName(bad);
    EXPECT_EQ(MatrixErrcode(s), "M_INVALID_PARAM") << bad;
  }
  EXPECT_FALSE(ValidateServerName(std::string(256, 'a')).ok());
}

TEST(IdentifiersTest, DeviceIds) {
  EXPECT_TRUE(ValidateDeviceId("ABCDEFGHIJ").ok());
  EXPECT_TRUE(ValidateDeviceId("phone \xc3\xa9").ok());
  EXPECT_TRUE(ValidateDeviceId(std::string(255, 'D')).ok());
  for (const std::string& bad : {std::string(), std::string(256, 'D'), std::string("a\nb"),
                                 std::string("a\x7f"), std::string("a\0b", 3)}) {
    EXPECT_EQ(MatrixErrcode(ValidateDeviceId(bad)), "M_INVALID_PARAM") << bad;
  }
}

TEST(IdentifiersTest, RoomIdsAndAliases) {
  EXPECT_TRUE(ValidateRoomId("!abc:example.org").ok());
  EXPECT_TRUE(ValidateRoomId("!abc:[::1]:8448").ok());
  EXPECT_TRUE(ValidateRoomAlias("#room:example.org").ok());
  // Room version 12: "!" and the create event's hash, no server.
  EXPECT_TRUE(ValidateRoomId("!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM").ok());
  for (const char* bad : {"abc:example.org", "!", "!a+b/c=", "!with space", "!:example.org",
                          "!abc:", "!abc:bad host", "#abc:example.org"}) {
    EXPECT_EQ(MatrixErrcode(ValidateRoomId(bad)), "M_INVALID_PARAM") << bad;
  }
  EXPECT_FALSE(ValidateRoomAlias("!room:example.org").ok());
  EXPECT_FALSE(ValidateRoomId("!" + std::string(250, 'a') + ":example.org").ok());
  EXPECT_FALSE(ValidateRoomId("!" + std::string(255, 'a')).ok());
}

TEST(IdentifiersTest, HistoricalUserIdsParse) {
  absl::StatusOr<SigilId> id = ParseSigilId("@Old User!:example.org", '@');
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->localpart, "Old User!");
  EXPECT_FALSE(ParseSigilId(std::string("@a\0b:x.org", 10), '@').ok());
}

TEST(IdentifiersTest, EventIds) {
  EXPECT_TRUE(ValidateEventId("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg").ok());
  EXPECT_TRUE(ValidateEventId("$0:domain").ok());
  for (const char* bad : {"", "$", "Rqnc", "$a+b/c", "$a:bad host", "$abc="}) {
    EXPECT_EQ(MatrixErrcode(ValidateEventId(bad)), "M_INVALID_PARAM") << bad;
  }
}

}  // namespace
}  // namespace periscope::matrix
