// Unit tests of the gateway's small parts: query parsing, the token cache, the status table.

#include "gtest/gtest.h"
#include "internal/gateway/auth/access_token_cache.h"
#include "internal/gateway/http/http_message.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {
namespace {

TEST(HttpMessageTest, ParseQueryDecodesAndKeepsRepeats) {
  auto q = ParseQuery("server_name=a.org&server_name=b.org&x=%40al%3Ace+x&empty=&bad=%zz");
  ASSERT_EQ(q.size(), 4u);
  HttpRequest req;
  req.query = q;
  EXPECT_EQ(req.QueryParams("server_name"), (std::vector<std::string>{"a.org", "b.org"}));
  EXPECT_EQ(*req.QueryParam("x"), "@al:ce x");
  EXPECT_EQ(*req.QueryParam("empty"), "");
  EXPECT_EQ(req.QueryParam("bad"), nullptr);  // malformed escapes are dropped, not guessed
}

TEST(HttpMessageTest, PercentDecode) {
  std::string out;
  EXPECT_TRUE(PercentDecode("%21room%3Aexample.org", &out));
  EXPECT_EQ(out, "!room:example.org");
  EXPECT_FALSE(PercentDecode("%2", &out));
  EXPECT_FALSE(PercentDecode("%g0", &out));
}

TEST(ResponderTest, AnswersOnceAndNeverLeavesAClientHanging) {
  std::vector<int> sent;
  {
    Responder r([&](HttpResponse resp) { sent.push_back(resp.status); });
    r(HttpResponse{201, "", "", {}});
    r(HttpResponse{202, "", "", {}});
  }
  EXPECT_EQ(sent, (std::vector<int>{201}));
  sent.clear();
  {
    Responder forgotten([&](HttpResponse resp) { sent.push_back(resp.status); });
  }
  EXPECT_EQ(sent, (std::vector<int>{500}));
}

TEST(AccessTokenCacheTest, ExpiresAndEvicts) {
  SimulatedClock clock;
  AccessTokenCache cache(clock, absl::Seconds(10));
  userapi::v1::Device a;
  a.set_user_id("@a:x");
  a.set_device_id("A1");
  userapi::v1::Device a2 = a;
  a2.set_device_id("A2");
  cache.Put("t1", a, cache.LookupTicket());
  cache.Put("t2", a2, cache.LookupTicket());
  EXPECT_TRUE(cache.Get("t1").has_value());
  cache.EvictDevice("@a:x", "A1");
  EXPECT_FALSE(cache.Get("t1").has_value());
  EXPECT_TRUE(cache.Get("t2").has_value());
  clock.Advance(absl::Seconds(11));
  EXPECT_FALSE(cache.Get("t2").has_value());
  cache.Put("t3", a2, cache.LookupTicket());
  cache.EvictUser("@a:x");
  EXPECT_FALSE(cache.Get("t3").has_value());
}

TEST(AccessTokenCacheTest, ALogoutDuringALookupKeepsTheRevokedTokenOut) {
  SimulatedClock clock;
  AccessTokenCache cache(clock, absl::Seconds(10));
  userapi::v1::Device a;
  a.set_user_id("@a:x");
  a.set_device_id("A1");
  // The lookup starts, userapi answers "valid", then the logout evicts, then the answer lands.
  const uint64_t ticket = cache.LookupTicket();
  cache.EvictDevice("@a:x", "A1");
  cache.Put("t1", a, ticket);
  EXPECT_FALSE(cache.Get("t1").has_value());
  const uint64_t ticket2 = cache.LookupTicket();
  cache.EvictUser("@a:x");
  cache.Put("t1", a, ticket2);
  EXPECT_FALSE(cache.Get("t1").has_value());
  // A lookup with no logout meanwhile is cached as before.
  cache.Put("t1", a, cache.LookupTicket());
  EXPECT_TRUE(cache.Get("t1").has_value());
}

TEST(AccessTokenCacheTest, ZeroTtlDisablesCaching) {
  SimulatedClock clock;
  AccessTokenCache cache(clock, absl::ZeroDuration());
  cache.Put("t", userapi::v1::Device(), cache.LookupTicket());
  EXPECT_FALSE(cache.Get("t").has_value());
}

TEST(AccessTokenCacheTest, StaysBounded) {
  SimulatedClock clock;
  AccessTokenCache cache(clock, absl::Seconds(10), /*max_entries=*/2);
  cache.Put("a", userapi::v1::Device(), cache.LookupTicket());
  cache.Put("b", userapi::v1::Device(), cache.LookupTicket());
  cache.Put("c", userapi::v1::Device(), cache.LookupTicket());
  EXPECT_TRUE(cache.Get("c").has_value());
  EXPECT_FALSE(cache.Get("a").has_value());
}

TEST(StatusMappingTest, Table) {
  struct Case {
    absl::Status status;
    int http;
    std::string errcode;
  };
  std::vector<Case> cases = {
      {MatrixError(absl::StatusCode::kAlreadyExists, "M_USER_IN_USE", "x"), 400, "M_USER_IN_USE"},
      {absl::InvalidArgumentError("x"), 400, "M_INVALID_PARAM"},
      {MatrixError(absl::StatusCode::kInvalidArgument, "M_TOO_LARGE", "x"), 413, "M_TOO_LARGE"},
      {absl::UnauthenticatedError("x"), 401, "M_UNKNOWN_TOKEN"},
      {absl::PermissionDeniedError("x"), 403, "M_FORBIDDEN"},
      {absl::NotFoundError("x"), 404, "M_NOT_FOUND"},
      {absl::ResourceExhaustedError("x"), 429, "M_LIMIT_EXCEEDED"},
      {absl::UnimplementedError("x"), 501, "M_UNRECOGNIZED"},
      {absl::UnavailableError("x"), 503, "M_UNKNOWN"},
      // Another server unreachable or its answer unusable (a join, a peek) names itself.
      {MatrixError(absl::StatusCode::kUnavailable, "M_UNKNOWN", "x"), 502, "M_UNKNOWN"},
      {absl::DeadlineExceededError("x"), 504, "M_UNKNOWN"},
      {absl::CancelledError("x"), 503, "M_UNKNOWN"},
      {absl::InternalError("secret detail"), 500, "M_UNKNOWN"},
  };
  for (const Case& c : cases) {
    HttpError e = MapStatus(c.status);
    EXPECT_EQ(e.status, c.http) << c.status;
    EXPECT_EQ(e.errcode, c.errcode) << c.status;
  }
  EXPECT_EQ(MapStatus(absl::InternalError("secret detail")).message.find("secret"),
            std::string::npos);
}

// Fields the spec adds to an error body join errcode and error; a server-side failure keeps its
// details to itself, and fields that are not a JSON object are ignored.
TEST(StatusMappingTest, ErrorFieldsJoinTheBody) {
  absl::Status incompatible = WithMatrixErrorFields(
      MatrixError(absl::StatusCode::kInvalidArgument, "M_INCOMPATIBLE_ROOM_VERSION", "old"),
      R"({"room_version":"10"})");
  HttpResponse r = StatusResponse(incompatible);
  EXPECT_EQ(r.status, 400);
  Json body = Json::parse(r.body);
  EXPECT_EQ(body["errcode"], "M_INCOMPATIBLE_ROOM_VERSION");
  EXPECT_EQ(body["error"], "old");
  EXPECT_EQ(body["room_version"], "10");
  EXPECT_FALSE(
      Json::parse(
          StatusResponse(WithMatrixErrorFields(absl::InternalError("x"), R"({"detail":"y"})")).body)
          .contains("detail"));
  EXPECT_EQ(Json::parse(StatusResponse(WithMatrixErrorFields(absl::NotFoundError("x"), "[1]")).body)
                .size(),
            2u);
}

}  // namespace
}  // namespace periscope::gateway
