// Server name resolution, step by step as the spec's table gives it, with fake DNS and a fake
// well-known endpoint: what must not happen is a request that goes to the wrong port (the
// client listener), checks the certificate against the SRV target, or drops the identity.

#include "pkg/federation/server_resolver.h"

#include "gtest/gtest.h"
#include "pkg/federation/https_well_known_fetcher.h"

namespace periscope::federation {
namespace {

class FakeDns : public SrvResolver {
 public:
  absl::StatusOr<std::vector<SrvRecord>> LookupSrv(const std::string& name) override {
    ++lookups;
    auto it = records.find(name);
    if (it == records.end()) return absl::NotFoundError(name);
    return it->second;
  }
  std::map<std::string, std::vector<SrvRecord>> records;
  int lookups = 0;
};

class FakeWellKnown : public WellKnownFetcher {
 public:
  absl::StatusOr<WellKnownAnswer> Fetch(const std::string& hostname) override {
    ++fetches;
    auto it = answers.find(hostname);
    if (it == answers.end()) return absl::UnavailableError("connection refused");
    return it->second;
  }
  std::map<std::string, WellKnownAnswer> answers;
  int fetches = 0;
};

class ServerResolverTest : public ::testing::Test {
 protected:
  ServerResolver Resolver(std::map<std::string, std::string> servers = {}) {
    return ServerResolver(std::move(servers), dns_, well_known_, clock_);
  }
  FakeDns dns_;
  FakeWellKnown well_known_;
  SimulatedClock clock_;
};

std::vector<ServerAddress> MustResolve(ServerResolver& r, const std::string& name) {
  auto out = r.Resolve(name);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<ServerAddress>{};
}

TEST(ParseServerNameTest, AcceptsTheGrammarAndRefusesTheRest) {
  EXPECT_EQ(ParseServerName("example.org")->host, "example.org");
  EXPECT_EQ(ParseServerName("example.org:8448")->port, 8448);
  EXPECT_TRUE(ParseServerName("1.2.3.4:5")->ip_literal);
  EXPECT_EQ(ParseServerName("[::1]:8448")->host, "::1");
  EXPECT_TRUE(ParseServerName("[::1]")->ip_literal);
  for (const char* bad : {"", "https://example.org", "example.org/path", "ex ample.org",
                          "example.org:", "example.org:0", "example.org:65536", "example.org:8a",
                          "[::1", "[nope]:80", ":8448", "example.org:1234567"}) {
    EXPECT_FALSE(ParseServerName(bad).ok()) << bad;
  }
}

TEST_F(ServerResolverTest, TheStaticMapWinsButKeepsTheIdentity) {
  auto r = Resolver({{"a.periscope.test", "127.0.0.1:18448"}});
  EXPECT_EQ(MustResolve(r, "a.periscope.test"),
            (std::vector<ServerAddress>{
                {"127.0.0.1", 18448, "a.periscope.test", "a.periscope.test", true}}));
  EXPECT_EQ(well_known_.fetches, 0);
  EXPECT_EQ(dns_.lookups, 0);
}

TEST_F(ServerResolverTest, ABadStaticEntryIsAClearError) {
  auto r = Resolver({{"a.periscope.test", "127.0.0.1"}});
  EXPECT_EQ(r.Resolve("a.periscope.test").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ServerResolverTest, AnIpLiteralIsUsedAsIsWith8448ByDefault) {
  auto r = Resolver();
  EXPECT_EQ(MustResolve(r, "10.0.0.1"),
            (std::vector<ServerAddress>{{"10.0.0.1", 8448, "10.0.0.1", "10.0.0.1"}}));
  EXPECT_EQ(MustResolve(r, "[::1]:9000"),
            (std::vector<ServerAddress>{{"::1", 9000, "[::1]:9000", "::1"}}));
  EXPECT_EQ(well_known_.fetches, 0);
}

TEST_F(ServerResolverTest, AnExplicitPortSkipsDelegation) {
  auto r = Resolver();
  EXPECT_EQ(MustResolve(r, "localhost:8448"),
            (std::vector<ServerAddress>{{"localhost", 8448, "localhost:8448", "localhost"}}));
  EXPECT_EQ(well_known_.fetches, 0);
  EXPECT_EQ(dns_.lookups, 0);
}

TEST_F(ServerResolverTest, WellKnownDelegationWithAPortGoesThere) {
  well_known_.answers["example.org"] = {"matrix.example.net:443", std::nullopt};
  auto r = Resolver();
  EXPECT_EQ(MustResolve(r, "example.org"),
            (std::vector<ServerAddress>{
                {"matrix.example.net", 443, "matrix.example.net:443", "matrix.example.net"}}));
}

TEST_F(ServerResolverTest, WellKnownDelegationWithoutAPortUsesSrvOfTheDelegate) {
  well_known_.answers["example.org"] = {"matrix.example.net", std::nullopt};
  dns_.records["_matrix-fed._tcp.matrix.example.net"] = {{"backend.example.net.", 8008, 10, 0}};
  auto r = Resolver();
  // SRV changes the address only: Host and the certificate name stay the delegated name.
  EXPECT_EQ(MustResolve(r, "example.org"),
            (std::vector<ServerAddress>{
                {"backend.example.net", 8008, "matrix.example.net", "matrix.example.net"}}));
}

TEST_F(ServerResolverTest, WellKnownDelegationToAnIpLiteral) {
  well_known_.answers["example.org"] = {"192.0.2.7", std::nullopt};
  auto r = Resolver();
  EXPECT_EQ(MustResolve(r, "example.org"),
            (std::vector<ServerAddress>{{"192.0.2.7", 8448, "192.0.2.7", "192.0.2.7"}}));
}

TEST_F(ServerResolverTest, AnInvalidWellKnownFallsThroughToSrvOfTheName) {
  well_known_.answers["example.org"] = {"https://matrix.example.net", std::nullopt};
  dns_.records["_matrix._tcp.example.org"] = {{"b.example.org", 9000, 20, 0},
                                              {"a.example.org", 8000, 10, 0}};
  auto r = Resolver();
  // Deprecated _matrix._tcp when _matrix-fed has nothing; lowest priority first; the TLS name is
  // the server name, never the SRV target.
  EXPECT_EQ(MustResolve(r, "example.org"),
            (std::vector<ServerAddress>{{"a.example.org", 8000, "example.org", "example.org"},
                                        {"b.example.org", 9000, "example.org", "example.org"}}));
}

TEST_F(ServerResolverTest, MatrixFedSrvIsPreferredToTheDeprecatedOne) {
  dns_.records["_matrix-fed._tcp.example.org"] = {{"new.example.org", 1, 0, 0}};
  dns_.records["_matrix._tcp.example.org"] = {{"old.example.org", 2, 0, 0}};
  auto r = Resolver();
  auto out = MustResolve(r, "example.org");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].host, "new.example.org");
}

TEST_F(ServerResolverTest, ADotTargetMeansNoServiceAndNothingFoundMeans8448) {
  dns_.records["_matrix-fed._tcp.example.org"] = {{".", 0, 0, 0}};
  auto r = Resolver();
  EXPECT_EQ(r.Resolve("example.org").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(MustResolve(r, "example.net"),
            (std::vector<ServerAddress>{{"example.net", 8448, "example.net", "example.net"}}));
}

TEST_F(ServerResolverTest, ATransportFailureKeepsAGoodDelegationForAWhile) {
  well_known_.answers["example.org"] = {"m.example.org:443", absl::Minutes(10)};
  auto r = Resolver();
  MustResolve(r, "example.org");
  clock_.Advance(absl::Minutes(11));
  well_known_.answers.erase("example.org");  // now unreachable
  EXPECT_EQ(MustResolve(r, "example.org")[0].host, "m.example.org");
  clock_.Advance(ServerResolver::kWellKnownRetryAfter + absl::Seconds(1));
  // An invalid answer (not a transport failure) does end the delegation.
  well_known_.answers["example.org"] = {std::nullopt, std::nullopt};
  EXPECT_EQ(MustResolve(r, "example.org")[0].host, "example.org");
}

TEST_F(ServerResolverTest, WellKnownAnswersAreCachedPerTheirHeadersWithinBounds) {
  well_known_.answers["example.org"] = {"m.example.org:1", absl::Seconds(30)};  // below 5 min
  auto r = Resolver();
  MustResolve(r, "example.org");
  clock_.Advance(absl::Minutes(4));
  MustResolve(r, "example.org");
  EXPECT_EQ(well_known_.fetches, 1);  // clamped up to 5 minutes
  clock_.Advance(absl::Minutes(2));
  MustResolve(r, "example.org");
  EXPECT_EQ(well_known_.fetches, 2);
}

TEST_F(ServerResolverTest, AFailedWellKnownIsCachedForAnHour) {
  auto r = Resolver();
  MustResolve(r, "example.org");
  clock_.Advance(absl::Minutes(59));
  MustResolve(r, "example.org");
  EXPECT_EQ(well_known_.fetches, 1);
  clock_.Advance(absl::Minutes(2));
  MustResolve(r, "example.org");
  EXPECT_EQ(well_known_.fetches, 2);
}

TEST_F(ServerResolverTest, ABadNameIsRefusedBeforeAnyLookup) {
  auto r = Resolver();
  EXPECT_EQ(r.Resolve("not a name").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(well_known_.fetches + dns_.lookups, 0);
}

TEST(ParseWellKnownResponseTest, ReadsMServerAndCacheControlWhateverTheContentType) {
  HttpsResponse ok{200,
                   {{"cache-control", "public, max-age=600"}, {"content-type", "text/plain"}},
                   R"({"m.server":"x.example:443"})"};
  WellKnownAnswer a = ParseWellKnownResponse(ok);
  EXPECT_EQ(a.server, "x.example:443");
  EXPECT_EQ(a.max_age, absl::Seconds(600));
  EXPECT_FALSE(ParseWellKnownResponse({404, {}, R"({"m.server":"x"})"}).server);
  EXPECT_FALSE(ParseWellKnownResponse({200, {}, "not json"}).server);
  EXPECT_FALSE(ParseWellKnownResponse({200, {}, R"(["m.server"])"}).server);
  EXPECT_FALSE(ParseWellKnownResponse({200, {}, R"({"m.server":5})"}).server);
  EXPECT_EQ(ParseWellKnownResponse({200, {{"cache-control", "no-store"}}, "{}"}).max_age,
            absl::ZeroDuration());
}

}  // namespace
}  // namespace periscope::federation
