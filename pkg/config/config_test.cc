#include "pkg/config/config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace periscope::config {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kMinimal = R"(
server_name: example.org
signing_key_path: /tmp/key
database:
  dsn: host=127.0.0.1 dbname=periscope
nats:
  url: nats://127.0.0.1:4222
)";

TEST(ConfigTest, MinimalConfigGetsDocumentedDefaults) {
  absl::StatusOr<Config> c = ParseConfig(kMinimal, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server_name, "example.org");
  EXPECT_EQ(c->gateway.client_listen.ToString(), "127.0.0.1:8008");
  EXPECT_EQ(c->gateway.federation_listen.ToString(), "127.0.0.1:8448");
  EXPECT_EQ(c->monolith.grpc_listen.ToString(), "127.0.0.1:7070");
  EXPECT_EQ(c->monolith.metrics_listen.ToString(), "127.0.0.1:9464");
  EXPECT_EQ(c->userapi.address, "127.0.0.1:7071");
  EXPECT_EQ(c->database.max_connections, 8);
  EXPECT_EQ(c->logging.level, logging::Level::kInfo);
}

TEST(ConfigTest, EnvironmentOverridesNestedKeys) {
  Environment env = {{"PERISCOPE_DATABASE__MAX_CONNECTIONS", "3"},
                     {"PERISCOPE_SERVER_NAME", "other.org"},
                     {"PERISCOPE_USERAPI__PASSWORD_HASH__OPS_LIMIT", "1"},
                     {"PERISCOPE_GATEWAY__CLIENT_LISTEN", "127.0.0.1:0"},
                     {"PERISCOPE_CONFIG", "/not/a/key"},
                     {"HOME", "/root"}};
  absl::StatusOr<Config> c = ParseConfig(kMinimal, env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->database.max_connections, 3);
  EXPECT_EQ(c->server_name, "other.org");
  EXPECT_EQ(c->userapi.password_hash.ops_limit, 1u);
  EXPECT_EQ(c->gateway.client_listen.port, 0);
}

TEST(ConfigTest, PeekingHasDefaultsAndBounds) {
  absl::StatusOr<Config> c = ParseConfig(kMinimal, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->peeking.local_peek_lifetime, absl::Hours(1));
  EXPECT_EQ(c->peeking.rate_limit_burst, 20);
  EXPECT_EQ(c->peeking.rate_limit_per_second, 2);
  c = ParseConfig(std::string(kMinimal) + "peeking:\n  local_peek_lifetime: 90s\n", {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->peeking.local_peek_lifetime, absl::Seconds(90));
  c = ParseConfig(kMinimal, {{"PERISCOPE_PEEKING__LOCAL_PEEK_LIFETIME", "10ms"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("peeking.local_peek_lifetime"));
  c = ParseConfig(kMinimal, {{"PERISCOPE_PEEKING__RATE_LIMIT_BURST", "0"}});
  EXPECT_FALSE(c.ok());
}

TEST(ConfigTest, BadValueNamesKeyValueAndExpectation) {
  Environment env = {{"PERISCOPE_DATABASE__MAX_CONNECTIONS", "lots"}};
  absl::StatusOr<Config> c = ParseConfig(kMinimal, env, "test.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("test.yaml"));
  EXPECT_THAT(
      c.status().message(),
      HasSubstr("database.max_connections: got \"lots\", expected an integer from 1 to 1000"));
}

TEST(ConfigTest, ReportsEveryErrorAtOnce) {
  std::string yaml = std::string(kMinimal) +
                     "gateway:\n  client_listen: nowhere\n  token_cache_ttl: soon\n"
                     "logging:\n  level: loud\n";
  absl::StatusOr<Config> c = ParseConfig(yaml, {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("gateway.client_listen: got \"nowhere\""));
  EXPECT_THAT(c.status().message(), HasSubstr("gateway.token_cache_ttl: got \"soon\""));
  EXPECT_THAT(c.status().message(), HasSubstr("logging.level: got \"loud\""));
}

TEST(ConfigTest, UnknownKeysAreErrors) {
  std::string yaml = std::string(kMinimal) + "databse:\n  dsn: x\n";
  absl::StatusOr<Config> c = ParseConfig(yaml, {{"PERISCOPE_NATS__URLL", "x"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("databse: unknown key"));
  EXPECT_THAT(c.status().message(), HasSubstr("nats.urll: unknown key"));
}

TEST(ConfigTest, MissingRequiredKeys) {
  absl::StatusOr<Config> c = ParseConfig("{}", {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("server_name: got nothing"));
  EXPECT_THAT(c.status().message(), HasSubstr("database.dsn: got nothing"));
  EXPECT_THAT(c.status().message(), HasSubstr("nats.url: got nothing"));
}

TEST(ConfigTest, InvalidYamlIsAClearError) {
  absl::StatusOr<Config> c = ParseConfig("a: [1, 2", {}, "broken.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("broken.yaml: not valid YAML"));
}

TEST(ConfigTest, SectionThatIsNotAMapping) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + "userapi: 3\n", {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("userapi: got \"3\", expected a mapping"));
}

TEST(ConfigTest, SampleConfigParses) {
  absl::StatusOr<Config> c = LoadConfig(PERISCOPE_SAMPLE_CONFIG, {});
  ASSERT_TRUE(c.ok()) << c.status();
  // The default name leads other servers to the federation listener, not the client one.
  EXPECT_EQ(c->server_name, "localhost:8448");
  EXPECT_EQ(c->gateway.federation_listen.port, 8448);
  EXPECT_FALSE(c->federation.plain_http);
  EXPECT_EQ(c->federation.tls_verify, "true");
}

TEST(ConfigTest, FederationServersNotariesAndTlsVerification) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"(
federation:
  tls_certificate: /etc/tls/crt.pem
  tls_private_key: /etc/tls/key.pem
  tls_verify: /etc/tls/ca.pem
  servers:
    b.example.test: 127.0.0.1:18448
    "[::1]:9": "[::1]:19"
  trusted_key_servers: [matrix.org]
  key_validity: 24h
)",
                                         {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->federation.tls_certificate, "/etc/tls/crt.pem");
  EXPECT_EQ(c->federation.tls_verify, "/etc/tls/ca.pem");
  EXPECT_EQ(c->federation.servers.at("b.example.test"), "127.0.0.1:18448");
  EXPECT_EQ(c->federation.servers.at("[::1]:9"), "[::1]:19");
  EXPECT_EQ(c->federation.trusted_key_servers, std::vector<std::string>{"matrix.org"});
  EXPECT_EQ(c->federation.key_validity, absl::Hours(24));
}

TEST(ConfigTest, FederationRefusesMalformedServersAndShortKeyValidity) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kMinimal) + R"(
federation:
  servers: [a, b]
  trusted_key_servers: {a: b}
  key_validity: 5m
)",
                                         {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("federation.servers: got a list"));
  EXPECT_THAT(c.status().message(), HasSubstr("federation.trusted_key_servers: got a mapping"));
  EXPECT_THAT(c.status().message(), HasSubstr("federation.key_validity"));
}

TEST(ConfigTest, MissingFile) {
  EXPECT_EQ(LoadConfig("/nonexistent/periscope.yaml", {}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace periscope::config
