// The gateway over real HTTP, with the userapi's real logic in process behind the narrow
// UserApiClient interface.

#include "internal/gateway/gateway.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/testing/http_test_client.h"
#include "pkg/crypto/random.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "tests/testing/in_process_user_api.h"

namespace periscope::gateway {
namespace {

using testing::Call;
using ::testing::HasSubstr;
using testing::TestResponse;

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitSodium();
    config_.server_name = "test.local";
    config_.gateway.client_listen = {"127.0.0.1", 0};
    config_.gateway.federation_listen = {"127.0.0.1", 0};
    config_.federation.plain_http = true;
    config_.gateway.max_body_bytes = 4096;
    config_.gateway.token_cache_ttl = absl::Seconds(30);
    registry_ = std::make_shared<prometheus::Registry>();
    absl::StatusOr<std::unique_ptr<Gateway>> gw =
        Gateway::Start(config_, {.userapi = &userapi_}, registry_.get(), clock_);
    ASSERT_TRUE(gw.ok()) << gw.status();
    gateway_ = *std::move(gw);
    port_ = gateway_->client_port();
  }

  TestResponse Get(const std::string& target, const std::string& token = "") {
    return Call(port_, "GET", target, "", token);
  }
  TestResponse Post(const std::string& target, const std::string& body,
                    const std::string& token = "") {
    return Call(port_, "POST", target, body, token);
  }
  static Json Body(const TestResponse& r) { return Json::parse(r.body, nullptr, false); }
  static std::string Errcode(const TestResponse& r) {
    Json b = Body(r);
    return b.is_object() && b.contains("errcode") ? b["errcode"].get<std::string>() : "";
  }

  // Registers `name` and returns the response body.
  Json Register(const std::string& name, const std::string& prefix = "v3") {
    TestResponse r =
        Post("/_matrix/client/" + prefix + "/register",
             R"({"username":")" + name + R"(","password":"pw","auth":{"type":"m.login.dummy"}})");
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  }

  config::Config config_;
  SimulatedClock clock_;
  testing::InProcessUserApi userapi_{clock_};
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Gateway> gateway_;
  int port_ = 0;
};

TEST(GatewayStartTest, TheFederationListenerNeedsTlsUnlessPlainHttpIsChosen) {
  config::Config config;
  config.server_name = "test.local";
  config.gateway.client_listen = {"127.0.0.1", 0};
  config.gateway.federation_listen = {"127.0.0.1", 0};
  SimulatedClock clock;
  testing::InProcessUserApi userapi{clock};
  auto gw = Gateway::Start(config, {.userapi = &userapi}, nullptr, clock);
  ASSERT_FALSE(gw.ok());
  EXPECT_THAT(gw.status().message(), HasSubstr("federation.tls_certificate"));
  config.federation.tls_certificate = "/nonexistent/crt.pem";
  config.federation.tls_private_key = "/nonexistent/key.pem";
  gw = Gateway::Start(config, {.userapi = &userapi}, nullptr, clock);
  ASSERT_FALSE(gw.ok());
  EXPECT_THAT(gw.status().message(), HasSubstr("/nonexistent/crt.pem"));
}

TEST_F(GatewayTest, Versions) {
  TestResponse r = Get("/_matrix/client/versions");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(Body(r)["versions"].dump(), HasSubstr("v1.1"));
  EXPECT_EQ(r.headers["access-control-allow-origin"], "*");
  EXPECT_EQ(r.headers["content-type"], "application/json");
}

TEST_F(GatewayTest, UnknownEndpointAndWrongMethodAreUnrecognized) {
  TestResponse r = Get("/_matrix/client/v3/nonsense");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Errcode(r), "M_UNRECOGNIZED");
  r = Call(port_, "DELETE", "/_matrix/client/v3/login");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Errcode(r), "M_UNRECOGNIZED");
  r = Get("/_matrix/client/v9/login");  // unknown version prefix
  EXPECT_EQ(r.status, 404);
}

TEST_F(GatewayTest, CorsPreflight) {
  TestResponse r = Call(port_, "OPTIONS", "/_matrix/client/v3/login");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.headers["access-control-allow-methods"], HasSubstr("POST"));
  EXPECT_THAT(r.headers["access-control-allow-headers"], HasSubstr("Authorization"));
}

TEST_F(GatewayTest, RegisterWithoutAuthGetsTheDummyFlow) {
  TestResponse r = Post("/_matrix/client/v3/register", R"({"username":"alice","password":"pw"})");
  EXPECT_EQ(r.status, 401);
  Json b = Body(r);
  EXPECT_EQ(b["flows"][0]["stages"][0], "m.login.dummy");
  EXPECT_TRUE(b["session"].is_string());
}

TEST_F(GatewayTest, RegisterLoginWhoamiLogoutOnBothPrefixes) {
  for (const std::string prefix : {"r0", "v3"}) {
    std::string name = "user_" + prefix;
    Json reg = Register(name, prefix);
    EXPECT_EQ(reg["user_id"], "@" + name + ":test.local");
    std::string token = reg["access_token"];

    TestResponse who = Get("/_matrix/client/" + prefix + "/account/whoami", token);
    EXPECT_EQ(who.status, 200) << who.body;
    EXPECT_EQ(Body(who)["user_id"], "@" + name + ":test.local");
    EXPECT_EQ(Body(who)["device_id"], reg["device_id"]);

    TestResponse login =
        Post("/_matrix/client/" + prefix + "/login",
             R"({"type":"m.login.password","identifier":{"type":"m.id.user","user":")" + name +
                 R"("},"password":"pw"})");
    EXPECT_EQ(login.status, 200) << login.body;
    std::string token2 = Body(login)["access_token"];

    TestResponse out = Post("/_matrix/client/" + prefix + "/logout", "", token);
    EXPECT_EQ(out.status, 200) << out.body;
    // The cached token must stop working at once, not after the cache TTL.
    TestResponse after = Get("/_matrix/client/" + prefix + "/account/whoami", token);
    EXPECT_EQ(after.status, 401);
    EXPECT_EQ(Errcode(after), "M_UNKNOWN_TOKEN");
    EXPECT_EQ(Get("/_matrix/client/" + prefix + "/account/whoami", token2).status, 200);
  }
}

TEST_F(GatewayTest, LogoutAllRevokesEveryDevice) {
  std::string t1 = Register("bob")["access_token"];
  TestResponse login = Post("/_matrix/client/v3/login",
                            R"({"type":"m.login.password","user":"bob","password":"pw"})");
  ASSERT_EQ(login.status, 200) << login.body;
  std::string t2 = Body(login)["access_token"];
  ASSERT_EQ(Get("/_matrix/client/v3/account/whoami", t2).status, 200);  // now cached
  EXPECT_EQ(Post("/_matrix/client/v3/logout/all", "{}", t1).status, 200);
  EXPECT_EQ(Get("/_matrix/client/v3/account/whoami", t1).status, 401);
  EXPECT_EQ(Get("/_matrix/client/v3/account/whoami", t2).status, 401);
}

TEST_F(GatewayTest, TokenCacheSavesUserapiCallsAndExpires) {
  std::string token = Register("carol")["access_token"];
  int before = userapi_.token_queries();
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(Get("/_matrix/client/v3/account/whoami", token).status, 200);
  EXPECT_EQ(userapi_.token_queries(), before + 1);
  clock_.Advance(absl::Seconds(31));
  ASSERT_EQ(Get("/_matrix/client/v3/account/whoami", token).status, 200);
  EXPECT_EQ(userapi_.token_queries(), before + 2);
}

TEST_F(GatewayTest, RegistrationErrors) {
  Register("dave");
  TestResponse taken =
      Post("/_matrix/client/v3/register", R"({"username":"dave","password":"pw"})");
  EXPECT_EQ(taken.status, 400);
  EXPECT_EQ(Errcode(taken), "M_USER_IN_USE");
  TestResponse taken2 =
      Post("/_matrix/client/v3/register",
           R"({"username":"dave","password":"pw","auth":{"type":"m.login.dummy"}})");
  EXPECT_EQ(taken2.status, 400);
  EXPECT_EQ(Errcode(taken2), "M_USER_IN_USE");
  TestResponse invalid =
      Post("/_matrix/client/v3/register", R"({"username":"Dave!","password":"pw"})");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(Errcode(invalid), "M_INVALID_USERNAME");
  TestResponse guest = Post("/_matrix/client/v3/register?kind=guest", "{}");
  EXPECT_EQ(guest.status, 403);
  EXPECT_EQ(Errcode(guest), "M_GUEST_ACCESS_FORBIDDEN");
  TestResponse other_auth =
      Post("/_matrix/client/v3/register",
           R"({"username":"erin","password":"pw","auth":{"type":"m.login.recaptcha"}})");
  EXPECT_EQ(other_auth.status, 401);
  EXPECT_EQ(Errcode(other_auth), "M_UNRECOGNIZED");
}

TEST_F(GatewayTest, InhibitLoginAndAvailability) {
  TestResponse r = Post(
      "/_matrix/client/v3/register",
      R"({"username":"frank","password":"pw","inhibit_login":true,"auth":{"type":"m.login.dummy"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Body(r).contains("access_token"));
  EXPECT_EQ(Get("/_matrix/client/v3/register/available?username=frank").status, 400);
  TestResponse free = Get("/_matrix/client/v3/register/available?username=grace");
  EXPECT_EQ(free.status, 200);
  EXPECT_EQ(Body(free)["available"], true);
  EXPECT_EQ(Errcode(Get("/_matrix/client/v3/register/available?username=G%20race")),
            "M_INVALID_USERNAME");
}

TEST_F(GatewayTest, BadJsonAndWrongTypes) {
  TestResponse not_json = Post("/_matrix/client/v3/login", "{nope");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(Errcode(not_json), "M_NOT_JSON");
  TestResponse empty = Post("/_matrix/client/v3/login", "");
  EXPECT_EQ(Errcode(empty), "M_NOT_JSON");
  TestResponse array = Post("/_matrix/client/v3/login", "[1]");
  EXPECT_EQ(array.status, 400);
  EXPECT_EQ(Errcode(array), "M_BAD_JSON");
  TestResponse wrong = Post("/_matrix/client/v3/register", R"({"username":5})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(Errcode(wrong), "M_BAD_JSON");
  TestResponse bad_utf8 = Post("/_matrix/client/v3/login", "{\"user\":\"\xff\"}");
  EXPECT_EQ(Errcode(bad_utf8), "M_NOT_JSON");
}

TEST_F(GatewayTest, LoginErrors) {
  Register("hank");
  TestResponse wrong = Post("/_matrix/client/v3/login",
                            R"({"type":"m.login.password","user":"hank","password":"nope"})");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(Errcode(wrong), "M_FORBIDDEN");
  TestResponse type = Post("/_matrix/client/v3/login", R"({"type":"m.login.token","token":"x"})");
  EXPECT_EQ(type.status, 400);
  EXPECT_EQ(Errcode(type), "M_UNKNOWN");
  TestResponse missing = Post("/_matrix/client/v3/login", R"({"type":"m.login.password"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Errcode(missing), "M_MISSING_PARAM");
  TestResponse flows = Get("/_matrix/client/v3/login");
  EXPECT_EQ(Body(flows)["flows"][0]["type"], "m.login.password");
}

TEST_F(GatewayTest, MissingAndUnknownTokens) {
  TestResponse none = Get("/_matrix/client/v3/account/whoami");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Errcode(none), "M_MISSING_TOKEN");
  TestResponse bad = Get("/_matrix/client/v3/account/whoami", "psc_bogus");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(Errcode(bad), "M_UNKNOWN_TOKEN");
  std::string token = Register("ivy")["access_token"];
  EXPECT_EQ(Get("/_matrix/client/v3/account/whoami?access_token=" + token).status, 200);
}

TEST_F(GatewayTest, BodyOverTheLimitIsTooLarge) {
  TestResponse r = Post("/_matrix/client/v3/login", std::string(8192, ' '));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Errcode(r), "M_TOO_LARGE");
}

TEST_F(GatewayTest, MalformedHttpIsRefusedCleanly) {
  TestResponse r = testing::SendRaw(port_, "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Get("/_matrix/client/versions").status, 200);  // and the server still serves
}

TEST_F(GatewayTest, ComponentDownIs503NotAHang) {
  userapi_.SetDown(true);
  TestResponse r =
      Post("/_matrix/client/v3/login", R"({"type":"m.login.password","user":"x","password":"y"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Errcode(r), "M_UNKNOWN");
  EXPECT_EQ(Body(r)["error"].get<std::string>().find("connection refused"), std::string::npos)
      << "internal details must not leak";
}

TEST_F(GatewayTest, MetricsUseRouteTemplatesNotRawPaths) {
  Get("/_matrix/client/v3/register/available?username=zed");
  Get("/_matrix/client/v3/whatever/abc123");
  std::string scrape = prometheus::TextSerializer().Serialize(registry_->Collect());
  EXPECT_THAT(scrape, HasSubstr("route=\"/_matrix/client/{version:r0|v3}/register/available\""));
  EXPECT_THAT(scrape, HasSubstr("route=\"unmatched\""));
  EXPECT_EQ(scrape.find("abc123"), std::string::npos);
  EXPECT_EQ(scrape.find("zed"), std::string::npos);
}

TEST_F(GatewayTest, HealthzOnBothListeners) {
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Call(gateway_->federation_port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(Errcode(Call(gateway_->federation_port(), "GET", "/_matrix/federation/v1/version")),
            "M_UNRECOGNIZED");
}

TEST_F(GatewayTest, LoginsAndRegistrationsAreRateLimitedPerAddressAndLoginsPerUser) {
  // Defaults: a burst of 10, then 30 a minute (one every 2 s).
  Register("victim");
  const std::string wrong =
      R"({"type":"m.login.password","identifier":{"type":"m.id.user","user":"victim"},"password":"guess"})";
  auto login_from = [&](const std::string& ip) {
    return Call(port_, "POST", "/_matrix/client/v3/login", wrong, "", ip);
  };
  // 127.0.0.1 spent one token on the registration.
  for (int i = 0; i < 9; ++i) EXPECT_EQ(login_from("127.0.0.1").status, 403) << i;
  TestResponse limited = login_from("127.0.0.1");
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(Errcode(limited), "M_LIMIT_EXCEEDED");
  EXPECT_GT(Body(limited)["retry_after_ms"].get<int64_t>(), 0);
  // Registering from that address is limited too.
  TestResponse reg = Call(
      port_, "POST", "/_matrix/client/v3/register",
      R"({"username":"mallory","password":"pw","auth":{"type":"m.login.dummy"}})", "", "127.0.0.1");
  EXPECT_EQ(reg.status, 429) << reg.body;
  // Another address may log in to other accounts, but not guess this one's password faster: the
  // user's own bucket (9 guesses so far, one left) runs out too.
  EXPECT_EQ(login_from("127.0.0.2").status, 403);
  EXPECT_EQ(login_from("127.0.0.3").status, 429);
  // Time refills the buckets.
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(login_from("127.0.0.1").status, 403);
}

}  // namespace
}  // namespace periscope::gateway
