// The federation transport on its own: the gateway's HTTP server with TLS on one side, the
// outbound HTTPS client on the other, over loopback with certificates made for the test. What
// must hold: names are checked (a certificate for another name is refused), connections are
// reused, deadlines and size limits end a request with a clear status, a kept-alive connection
// the server closed is not an error, and a plain-text client cannot upset the TLS listener.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "internal/gateway/http/http_server.h"
#include "internal/gateway/testing/http_test_client.h"
#include "pkg/federation/https_client.h"
#include "tests/testing/tls_certificates.h"

namespace periscope::federation {
namespace {

using gateway::HttpRequest;
using gateway::HttpResponse;
using gateway::Responder;

// "/echo" answers the method, target, Host and body; "/big" answers 2 MB; "/never" holds its
// Responder until the test ends.
class Handler : public gateway::RequestHandler {
 public:
  void Handle(HttpRequest request, Responder respond) override {
    if (request.path == "/big") {
      return respond(HttpResponse{200, "application/json", std::string(2 << 20, 'x'), {}});
    }
    if (request.path == "/never") {
      absl::MutexLock lock(&mu_);
      held_.push_back(std::move(respond));
      return;
    }
    const std::string* host = request.Header("host");
    respond(HttpResponse{200,
                         "text/plain",
                         absl::StrCat(request.method, " ", request.target, " ", host ? *host : "-",
                                      " ", request.body),
                         {}});
  }

 private:
  absl::Mutex mu_;
  std::vector<Responder> held_ ABSL_GUARDED_BY(mu_);
};

class HttpsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("periscope_https_test_", getpid(), "_", rand());
    std::filesystem::create_directories(dir_);
    auto cert = periscope::testing::MakeSelfSignedCertificate(dir_, "a", {"a.periscope.test"});
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = *cert;
    server_ = std::make_unique<gateway::HttpServer>(1);
    gateway::HttpListenerOptions options;
    options.host = "127.0.0.1";
    options.tls_certificate_path = cert_.certificate_path;
    options.tls_private_key_path = cert_.private_key_path;
    options.read_timeout_seconds = 1;  // kept-alive connections are closed after 1 s idle
    auto port = server_->Listen(options, handler_);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    server_->Start();
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<HttpsClient> Client(TlsVerification tls, int64_t max_response = 1 << 20) {
    HttpsClientOptions options;
    options.tls = std::move(tls);
    options.max_response_bytes = max_response;
    options.connect_timeout = absl::Seconds(2);
    auto client = HttpsClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  TlsVerification TrustOurCa() { return {TlsVerification::Mode::kCaFile, cert_.certificate_path}; }

  HttpsRequest Request(const std::string& target,
                       const std::string& tls_name = "a.periscope.test") {
    HttpsRequest r;
    r.host = "127.0.0.1";
    r.port = port_;
    r.host_header = "a.periscope.test";
    r.tls_name = tls_name;
    r.target = target;
    r.timeout = absl::Seconds(5);
    r.allow_private_addresses = true;  // loopback, as federation.servers allows
    return r;
  }

  std::filesystem::path dir_;
  periscope::testing::TlsCertificate cert_;
  Handler handler_;
  std::unique_ptr<gateway::HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpsTransportTest, ACertificateForTheNameIsAcceptedAndTheConnectionIsReused) {
  auto client = Client(TrustOurCa());
  HttpsRequest put = Request("/echo?a=%20b&a=c");
  put.method = "PUT";
  put.body = R"({"x":1})";
  auto first = client->SendAndWait(put);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->status, 200);
  // The target arrives byte for byte (X-Matrix signs it), with the Host we chose.
  EXPECT_EQ(first->body, R"(PUT /echo?a=%20b&a=c a.periscope.test {"x":1})");
  auto second = client->SendAndWait(Request("/echo"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body, "GET /echo a.periscope.test ");
  EXPECT_EQ(client->connections_opened(), 1);
}

TEST_F(HttpsTransportTest, LoopbackAndPrivateAddressesAreRefusedUnlessAllowed) {
  auto client = Client(TrustOurCa());
  for (const char* host : {"127.0.0.1", "localhost", "10.1.2.3", "192.168.0.1", "169.254.1.1",
                           "::1", "::ffff:127.0.0.1"}) {
    HttpsRequest r = Request("/echo");
    r.host = host;
    r.allow_private_addresses = false;
    auto result = client->SendAndWait(r);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << host;
    EXPECT_NE(result.status().message().find("non-public"), std::string::npos)
        << host << ": " << result.status();
  }
  EXPECT_EQ(client->connections_opened(), 0);
}

TEST_F(HttpsTransportTest, ACertificateForAnotherNameIsRefused) {
  auto client = Client(TrustOurCa());
  auto r = client->SendAndWait(Request("/echo", "b.periscope.test"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST_F(HttpsTransportTest, ACertificateFromAnUntrustedIssuerIsRefused) {
  auto other = periscope::testing::MakeSelfSignedCertificate(dir_, "other", {"a.periscope.test"});
  ASSERT_TRUE(other.ok());
  auto client = Client({TlsVerification::Mode::kCaFile, other->certificate_path});
  auto r = client->SendAndWait(Request("/echo"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST_F(HttpsTransportTest, WithoutVerificationAnyNameIsAccepted) {
  auto client = Client({TlsVerification::Mode::kNone, ""});
  auto r = client->SendAndWait(Request("/echo", "b.periscope.test"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
}

TEST_F(HttpsTransportTest, AMissingCaFileIsAClearError) {
  HttpsClientOptions options;
  options.tls = {TlsVerification::Mode::kCaFile, (dir_ / "nothing.pem").string()};
  auto client = HttpsClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpsTransportTest, ASlowServerEndsTheRequestAtItsDeadline) {
  auto client = Client(TrustOurCa());
  HttpsRequest r = Request("/never");
  r.timeout = absl::Milliseconds(500);
  absl::Time start = absl::Now();
  auto result = client->SendAndWait(r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(HttpsTransportTest, AnOversizeResponseIsRefused) {
  auto client = Client(TrustOurCa(), /*max_response=*/1 << 20);
  auto r = client->SendAndWait(Request("/big"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  // The client still works afterwards.
  auto next = client->SendAndWait(Request("/echo"));
  ASSERT_TRUE(next.ok()) << next.status();
}

TEST_F(HttpsTransportTest, AKeptAliveConnectionTheServerClosedIsReplacedNotReported) {
  auto client = Client(TrustOurCa());
  ASSERT_TRUE(client->SendAndWait(Request("/echo")).ok());
  absl::SleepFor(absl::Milliseconds(1800));  // the server's 1 s idle timeout closes it
  auto r = client->SendAndWait(Request("/echo"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(client->connections_opened(), 2);
}

TEST_F(HttpsTransportTest, ARefusedConnectionIsUnavailable) {
  auto client = Client(TrustOurCa());
  HttpsRequest r = Request("/echo");
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);  // a port that is bound but never listened on
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  r.port = ntohs(addr.sin_port);
  auto result = client->SendAndWait(r);
  ::close(fd);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
}

TEST_F(HttpsTransportTest, ABadRequestIsRefusedBeforeAnyConnection) {
  auto client = Client(TrustOurCa());
  HttpsRequest r = Request("no-slash");
  auto result = client->SendAndWait(r);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->connections_opened(), 0);
}

TEST_F(HttpsTransportTest, DestroyingTheClientAnswersPendingRequestsCancelled) {
  auto client = Client(TrustOurCa());
  std::atomic<int> cancelled{0};
  client->Send(Request("/never"), [&](absl::StatusOr<HttpsResponse> r) {
    if (r.status().code() == absl::StatusCode::kCancelled) ++cancelled;
  });
  absl::SleepFor(absl::Milliseconds(300));
  client.reset();
  EXPECT_EQ(cancelled.load(), 1);
}

TEST_F(HttpsTransportTest, APlainTextClientOnTheTlsListenerIsClosedAndHarmless) {
  auto plain = gateway::testing::SendRaw(port_, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(plain.status, 0);  // no HTTP answer: the handshake failed and the server closed
  auto client = Client(TrustOurCa());
  auto r = client->SendAndWait(Request("/echo"));
  ASSERT_TRUE(r.ok()) << r.status();
}

}  // namespace
}  // namespace periscope::federation
