// Server ACLs as the spec orders the checks, with the cases that trip implementations: ports
// are ignored, a missing allow list denies everyone, IP literals, case, and malformed entries.

#include "pkg/matrix/server_acl.h"

#include "gtest/gtest.h"

namespace periscope::matrix {
namespace {

TEST(ServerAclTest, NoAclAllowsEveryone) {
  EXPECT_TRUE(ServerAllowedByAcl(nullptr, "evil.example"));
}

TEST(ServerAclTest, DenyWinsOverAllowAndPortsAreIgnored) {
  Json acl = {{"allow", {"*"}}, {"deny", {"*.evil.example", "bad.example"}}};
  EXPECT_TRUE(ServerAllowedByAcl(acl, "good.example:8448"));
  EXPECT_FALSE(ServerAllowedByAcl(acl, "a.evil.example:8448"));
  EXPECT_FALSE(ServerAllowedByAcl(acl, "BAD.example"));
  EXPECT_TRUE(ServerAllowedByAcl(acl, "evil.example"));  // *.evil.example needs a label before
}

TEST(ServerAclTest, AMissingAllowListDeniesEveryone) {
  EXPECT_FALSE(ServerAllowedByAcl(Json{{"deny", Json::array()}}, "good.example"));
  EXPECT_FALSE(ServerAllowedByAcl(Json::object(), "good.example"));
}

TEST(ServerAclTest, IpLiteralsAreDeniedOnlyWhenAskedAndNotByDefault) {
  Json deny_ips = {{"allow", {"*"}}, {"allow_ip_literals", false}};
  EXPECT_FALSE(ServerAllowedByAcl(deny_ips, "10.0.0.1:8448"));
  EXPECT_FALSE(ServerAllowedByAcl(deny_ips, "[::1]:8448"));
  EXPECT_TRUE(ServerAllowedByAcl(deny_ips, "example.org"));
  Json not_bool = {{"allow", {"*"}}, {"allow_ip_literals", "no"}};
  EXPECT_TRUE(ServerAllowedByAcl(not_bool, "10.0.0.1"));
}

TEST(ServerAclTest, MalformedEntriesAreIgnored) {
  Json acl = {{"allow", {5, nullptr, "ok.example"}}, {"deny", "everyone"}};
  EXPECT_TRUE(ServerAllowedByAcl(acl, "ok.example"));
  EXPECT_FALSE(ServerAllowedByAcl(acl, "other.example"));
}

TEST(GlobTest, StarAndQuestionMark) {
  EXPECT_TRUE(GlobMatches("*", ""));
  EXPECT_TRUE(GlobMatches("a?c", "abc"));
  EXPECT_FALSE(GlobMatches("a?c", "ac"));
  EXPECT_TRUE(GlobMatches("*.example.*", "x.example.org"));
  EXPECT_FALSE(GlobMatches("example", "example.org"));
  // No catastrophic backtracking on adversarial globs.
  EXPECT_FALSE(GlobMatches("*a*a*a*a*a*a*a*a*b", std::string(200, 'a')));
}

}  // namespace
}  // namespace periscope::matrix
