// A logout on one gateway revokes the token on every gateway at once (through NATS), although
// each keeps a token cache with a long TTL.

#include "gtest/gtest.h"
#include "internal/gateway/gateway.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/testing/http_test_client.h"
#include "pkg/crypto/random.h"
#include "pkg/stream/jetstream.h"
#include "tests/testing/in_process_user_api.h"
#include "tests/testing/test_services.h"

namespace periscope::gateway {
namespace {

using testing::Call;

class GatewayLogoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitSodium();
    auto nats = periscope::testing::NatsServerProcess::Start();
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_server_ = *std::move(nats);
    config_.server_name = "test.local";
    config_.nats.stream_prefix = "LOGOUT_TEST";
    config_.gateway.client_listen = {"127.0.0.1", 0};
    config_.gateway.federation_listen = {"127.0.0.1", 0};
    config_.federation.plain_http = true;
    config_.gateway.token_cache_ttl = absl::Hours(1);
    for (int i = 0; i < 2; ++i) {
      auto js = stream::JetStream::Connect({.url = nats_server_->url()});
      ASSERT_TRUE(js.ok()) << js.status();
      nats_[i] = *std::move(js);
      auto gw =
          Gateway::Start(config_, {.userapi = &userapi_, .nats = nats_[i].get()}, nullptr, clock_);
      ASSERT_TRUE(gw.ok()) << gw.status();
      gateways_[i] = *std::move(gw);
    }
  }

  int Whoami(int gateway, const std::string& token) {
    return Call(gateways_[gateway]->client_port(), "GET", "/_matrix/client/v3/account/whoami", "",
                token)
        .status;
  }

  // Polls until `gateway` answers `status` for `token` (the announcement crosses NATS).
  // The broadcast normally lands within milliseconds; the bound is generous because a loaded CI
  // machine (two test processes on two cores) once took longer than 2 s.
  bool EventuallyWhoami(int gateway, const std::string& token, int status) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (Whoami(gateway, token) == status) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  std::string Register(const std::string& name) {
    auto r =
        Call(gateways_[0]->client_port(), "POST", "/_matrix/client/v3/register",
             R"({"username":")" + name + R"(","password":"pw","auth":{"type":"m.login.dummy"}})");
    return Json::parse(r.body)["access_token"];
  }

  std::unique_ptr<periscope::testing::NatsServerProcess> nats_server_;
  config::Config config_;
  SimulatedClock clock_;
  testing::InProcessUserApi userapi_{clock_};
  std::unique_ptr<stream::JetStream> nats_[2];
  std::unique_ptr<Gateway> gateways_[2];
};

TEST_F(GatewayLogoutTest, LogoutOnOneGatewayRevokesOnTheOther) {
  std::string token = Register("alice");
  ASSERT_EQ(Whoami(0, token), 200);
  ASSERT_EQ(Whoami(1, token), 200);  // now cached on both, for an hour
  ASSERT_EQ(
      Call(gateways_[0]->client_port(), "POST", "/_matrix/client/v3/logout", "{}", token).status,
      200);
  EXPECT_EQ(Whoami(0, token), 401);
  EXPECT_TRUE(EventuallyWhoami(1, token, 401));
}

TEST_F(GatewayLogoutTest, LogoutAllOnOneGatewayRevokesEveryDeviceOnTheOther) {
  std::string t1 = Register("bob");
  auto login = Call(gateways_[1]->client_port(), "POST", "/_matrix/client/v3/login",
                    R"({"type":"m.login.password","user":"bob","password":"pw"})");
  std::string t2 = Json::parse(login.body)["access_token"];
  ASSERT_EQ(Whoami(1, t1), 200);
  ASSERT_EQ(Whoami(1, t2), 200);
  ASSERT_EQ(
      Call(gateways_[0]->client_port(), "POST", "/_matrix/client/v3/logout/all", "", t1).status,
      200);
  EXPECT_TRUE(EventuallyWhoami(1, t1, 401));
  EXPECT_TRUE(EventuallyWhoami(1, t2, 401));
}

}  // namespace
}  // namespace periscope::gateway
