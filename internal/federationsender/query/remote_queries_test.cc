// Remote queries against a faked federation: the right server is asked the right (encoded)
// question, and what comes back is checked rather than trusted.

#include "internal/federationsender/query/remote_queries.h"

#include "gtest/gtest.h"
#include "pkg/status/matrix_status.h"
#include "tests/testing/fake_federation.h"

namespace periscope::federationsender {
namespace {

using matrix::Json;
using periscope::testing::FakeFederation;

TEST(RemoteQueriesTest, AProfileIsAskedOfTheUsersServerWithTheIdEncoded) {
  FakeFederation federation;
  federation.On("b.test", "/_matrix/federation/v1/query/profile",
                FakeFederation::Answer(200, {{"displayname", "Bob"}, {"avatar_url", 5}}));
  RemoteQueries queries("a.test", federation);
  auto profile = queries.Profile("@bob:b.test", "");
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->displayname(), "Bob");
  EXPECT_FALSE(profile->has_avatar_url());  // not a string: ignored
  ASSERT_EQ(federation.calls().size(), 1u);
  EXPECT_EQ(federation.calls()[0].target,
            "/_matrix/federation/v1/query/profile?user_id=%40bob%3Ab.test");
}

TEST(RemoteQueriesTest, RemoteErrorsKeepTheirErrcodeAndUnreachableServersAreUnavailable) {
  FakeFederation federation;
  federation.On(
      "b.test", "/",
      FakeFederation::Answer(404, {{"errcode", "M_NOT_FOUND"}, {"error", "no such user"}}));
  RemoteQueries queries("a.test", federation);
  auto missing = queries.Profile("@nobody:b.test", "displayname");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(MatrixErrcode(missing.status()), "M_NOT_FOUND");
  EXPECT_EQ(queries.Profile("@c:c.test", "").status().code(), absl::StatusCode::kUnavailable);
}

TEST(RemoteQueriesTest, BadInputIsRefusedWithoutAsking) {
  FakeFederation federation;
  RemoteQueries queries("a.test", federation);
  EXPECT_EQ(queries.Profile("bob", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queries.Profile("@me:a.test", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queries.Profile("@b:b.test", "m.tz").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queries.Alias("room").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(queries.Alias("#r:a.test").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(federation.calls().empty());
}

TEST(RemoteQueriesTest, AnAliasAnswerMustNameARoomAndItsServerComesFirst) {
  FakeFederation federation;
  federation.On("b.test", "/_matrix/federation/v1/query/directory?room_alias=%23r%3Ab.test",
                FakeFederation::Answer(
                    200, {{"room_id", "!x:b.test"}, {"servers", {"c.test", "b.test", 7}}}));
  federation.On("c.test", "/", FakeFederation::Answer(200, {{"servers", Json::array()}}));
  RemoteQueries queries("a.test", federation);
  auto found = queries.Alias("#r:b.test");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->room_id(), "!x:b.test");
  ASSERT_EQ(found->servers_size(), 2);
  EXPECT_EQ(found->servers(0), "b.test");
  EXPECT_EQ(found->servers(1), "c.test");
  EXPECT_EQ(queries.Alias("#r:c.test").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace periscope::federationsender
