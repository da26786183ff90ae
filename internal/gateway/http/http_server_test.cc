// The HTTP server's lifetime rules: answers from other threads, keep-alive, and Stop's drain
// (parked requests are cancelled and answered, unanswered ones are cut off, and an answer that
// comes after the server is gone is dropped, not written into freed memory). CMake also builds
// this test with AddressSanitizer (http_server_asan_test), which turns a use-after-free on those
// paths into a failure rather than a rare heap corruption elsewhere.

#include "internal/gateway/http/http_server.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "internal/gateway/testing/http_test_client.h"

namespace periscope::gateway {
namespace {

using testing::SendRaw;
using testing::TestResponse;

constexpr char kCancelled[] = R"({"errcode":"M_UNKNOWN","error":"cancelled"})";

// "/now" answers at once; "/park" waits and answers 503 when cancelled (as a parked /sync does);
// "/hold" keeps its Responder for the test to call (or never).
class TestHandler : public RequestHandler {
 public:
  void Handle(HttpRequest request, Responder respond) override {
    if (request.path == "/now") return respond(HttpResponse{200, "application/json", "{}", {}});
    absl::MutexLock lock(&mu_);
    if (request.path == "/park") {
      request.cancellation->OnCancel([respond] {
        respond(HttpResponse{503, "application/json", kCancelled, {}});
      });
    } else {
      held_.push_back(respond);
    }
    ++waiting_;
  }

  void AwaitWaiting(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return waiting_ >= n; };
    mu_.Await(absl::Condition(&reached));
  }

  std::vector<Responder> TakeHeld() {
    absl::MutexLock lock(&mu_);
    return std::move(held_);
  }

 private:
  absl::Mutex mu_;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Responder> held_ ABSL_GUARDED_BY(mu_);
};

std::string Get(const std::string& path, bool keep_alive) {
  return "GET " + path +
         " HTTP/1.1\r\nHost: localhost\r\nConnection: " + (keep_alive ? "keep-alive" : "close") +
         "\r\n\r\n";
}

// One kept-alive connection, for requests sent at chosen moments.
class OpenConnection {
 public:
  explicit OpenConnection(int port) : fd_(testing::ConnectLoopback(port)) {}
  OpenConnection(OpenConnection&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  OpenConnection& operator=(OpenConnection&& o) noexcept {
    Reset();
    fd_ = std::exchange(o.fd_, -1);
    return *this;
  }
  ~OpenConnection() { Reset(); }

  // Sends a request and reads one response (headers and a Content-Length body); "" if the
  // connection is closed or refused.
  std::string Exchange(const std::string& raw) {
    if (fd_ < 0 || send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL) != ssize_t(raw.size())) {
      return "";
    }
    std::string data;
    char buf[4096];
    while (true) {
      size_t head = data.find("\r\n\r\n");
      if (head != std::string::npos) {
        size_t length_at = absl::AsciiStrToLower(data).find("content-length:");
        size_t length =
            length_at == std::string::npos ? 0 : std::stoul(data.substr(length_at + 15));
        if (data.size() >= head + 4 + length) return data;
      }
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return "";
      data.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(2);
    absl::StatusOr<int> port = server_->Listen({"127.0.0.1", 0}, handler_);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    server_->Start();
  }

  std::future<TestResponse> SendAsync(const std::string& raw) {
    return std::async(std::launch::async, [this, raw] { return SendRaw(port_, raw); });
  }

  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, AnswerFromAnotherThreadLaterIsWritten) {
  std::future<TestResponse> response = SendAsync(Get("/hold", false));
  handler_.AwaitWaiting(1);
  std::vector<Responder> held = handler_.TakeHeld();
  ASSERT_EQ(held.size(), 1u);
  std::thread([r = held[0]] {
    r(HttpResponse{200, "application/json", R"({"ok":1})", {}});
  }).join();
  TestResponse r = response.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":1})");
}

TEST_F(HttpServerTest, KeepAliveServesPipelinedRequestsInOrder) {
  TestResponse r = SendRaw(port_, Get("/now", true) + Get("/now", true) + Get("/now", false));
  EXPECT_EQ(r.status, 200);
  // Two more responses follow the first one's body.
  size_t count = 0;
  for (size_t at = r.body.find("HTTP/1.1 200"); at != std::string::npos;
       at = r.body.find("HTTP/1.1 200", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 2u) << r.body;
}

TEST_F(HttpServerTest, StopCancelsParkedRequestsAndClosesAfterTheirAnswers) {
  // Keep-alive: only the drain's Connection: close ends this client's read.
  std::future<TestResponse> response = SendAsync(Get("/park", true));
  handler_.AwaitWaiting(1);
  auto started = std::chrono::steady_clock::now();
  server_->Stop(absl::Seconds(30));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  TestResponse r = response.get();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, kCancelled);
  EXPECT_EQ(r.headers["connection"], "close");
}

TEST_F(HttpServerTest, StopCutsOffWhatIsNotAnsweredInTimeAndDropsLaterAnswers) {
  std::future<TestResponse> response = SendAsync(Get("/hold", true));
  handler_.AwaitWaiting(1);
  auto started = std::chrono::steady_clock::now();
  server_->Stop(absl::Milliseconds(200));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(150));
  EXPECT_EQ(response.get().status, 0);  // closed without an answer
  server_.reset();                      // the io_context is gone now
  // An upstream answering late, from its own thread: dropped, and its last copy let go there.
  std::vector<Responder> held = handler_.TakeHeld();
  ASSERT_EQ(held.size(), 1u);
  std::thread([held = std::move(held)]() mutable {
    held[0](HttpResponse{200, "application/json", "{}", {}});
    held.clear();
  }).join();
}

TEST_F(HttpServerTest, AnUnansweredRequestDroppedAfterStopIsHarmless) {
  std::future<TestResponse> response = SendAsync(Get("/hold", false));
  handler_.AwaitWaiting(1);
  server_->Stop(absl::ZeroDuration());
  EXPECT_EQ(response.get().status, 0);
  server_.reset();
  // The last copy of a Responder answers 500 when dropped; with the server gone, nothing.
  std::thread([held = handler_.TakeHeld()]() mutable { held.clear(); }).join();
}

TEST_F(HttpServerTest, ARequestOnAnOpenConnectionDuringTheDrainIsRefused) {
  OpenConnection idle(port_);
  ASSERT_TRUE(absl::StartsWith(idle.Exchange(Get("/now", true)), "HTTP/1.1 200"));
  // A request nobody answers by itself keeps the drain going.
  std::future<TestResponse> held = SendAsync(Get("/hold", false));
  handler_.AwaitWaiting(1);
  std::thread stopper([this] { server_->Stop(absl::Seconds(30)); });
  // The kept-alive connection's next request comes while the server drains.
  std::string refused;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    refused = idle.Exchange(Get("/now", true));
    if (!absl::StartsWith(refused, "HTTP/1.1 200")) break;  // else the drain had not begun yet
  }
  EXPECT_TRUE(absl::StartsWith(refused, "HTTP/1.1 503")) << refused;
  EXPECT_TRUE(absl::StrContains(refused, "shutting down")) << refused;
  std::vector<Responder> h = handler_.TakeHeld();
  ASSERT_EQ(h.size(), 1u);
  h[0](HttpResponse{200, "application/json", "{}", {}});
  stopper.join();
  EXPECT_EQ(held.get().status, 200);  // answered within the drain: written
}

// A server with its own listener options, for the abuse limits.
class LimitedServer {
 public:
  explicit LimitedServer(HttpListenerOptions options) : server_(2) {
    options.host = "127.0.0.1";
    absl::StatusOr<int> port = server_.Listen(options, handler_);
    EXPECT_TRUE(port.ok()) << port.status();
    port_ = port.value_or(0);
    server_.Start();
  }
  int port() const { return port_; }
  HttpServer& server() { return server_; }
  TestHandler& handler() { return handler_; }

 private:
  TestHandler handler_;
  HttpServer server_;
  int port_ = 0;
};

TEST(HttpServerLimitsTest, ConnectionsPastTheTotalLimitAreRefusedWithAMatrixError) {
  std::atomic<int> reported{0};
  LimitedServer s({.max_connections = 2,
                   .max_connections_per_address = 0,
                   .on_refused = [&reported] { ++reported; }});
  OpenConnection a(s.port()), b(s.port());
  EXPECT_NE(a.Exchange(Get("/now", true)).find("200 OK"), std::string::npos);
  EXPECT_NE(b.Exchange(Get("/now", true)).find("200 OK"), std::string::npos);
  OpenConnection c(s.port());
  std::string refused = c.Exchange(Get("/now", true));
  EXPECT_NE(refused.find("503"), std::string::npos) << refused;
  EXPECT_NE(refused.find("M_LIMIT_EXCEEDED"), std::string::npos) << refused;
  EXPECT_EQ(s.server().connections_refused(), 1);
  EXPECT_EQ(reported.load(), 1);  // what the gateway's metric counts
  // A place freed is a place again.
  a = OpenConnection(-1);
  std::string again;
  for (int i = 0; i < 50 && again.find("200 OK") == std::string::npos; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    OpenConnection d(s.port());
    again = d.Exchange(Get("/now", false));
  }
  EXPECT_NE(again.find("200 OK"), std::string::npos) << again;
}

TEST(HttpServerLimitsTest, ConnectionsPastThePerAddressLimitAreRefused) {
  LimitedServer s({.max_connections = 0, .max_connections_per_address = 1});
  OpenConnection a(s.port());
  EXPECT_NE(a.Exchange(Get("/now", true)).find("200 OK"), std::string::npos);
  OpenConnection b(s.port());
  EXPECT_NE(b.Exchange(Get("/now", true)).find("M_LIMIT_EXCEEDED"), std::string::npos);
}

TEST(HttpServerLimitsTest, ASlowClientIsCutOffButAParkedLongPollIsNot) {
  LimitedServer s({.read_timeout_seconds = 1});
  // A parked request (as a /sync long-poll) outlives the read timeout.
  OpenConnection parked(s.port());
  std::future<std::string> parked_answer =
      std::async(std::launch::async, [&] { return parked.Exchange(Get("/hold", true)); });
  s.handler().AwaitWaiting(1);
  // Slowloris: headers that never end.
  int fd = testing::ConnectLoopback(s.port());
  const std::string partial = "GET /now HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(send(fd, partial.data(), partial.size(), MSG_NOSIGNAL), ssize_t(partial.size()));
  const auto start = std::chrono::steady_clock::now();
  char buf[256];
  ssize_t n = recv(fd, buf, sizeof buf, 0);  // returns when the server closes
  const auto waited = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_LE(n, 0);
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_GE(waited, std::chrono::milliseconds(800));
  // The long-poll is still there, and answered now.
  std::vector<Responder> held = s.handler().TakeHeld();
  ASSERT_EQ(held.size(), 1u);
  held[0](HttpResponse{200, "application/json", R"({"late":true})", {}});
  EXPECT_NE(parked_answer.get().find("late"), std::string::npos);
}

TEST(HttpServerLimitsTest, OutOfFileDescriptorsTheListenerBacksOffAndRecovers) {
  LimitedServer s({});
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
  // Use up the descriptors the limit leaves, then connect: the server cannot accept it.
  int probe = dup(0);
  ASSERT_GE(probe, 0);
  close(probe);
  rlimit low = original;
  low.rlim_cur = static_cast<rlim_t>(probe + 2);
  std::vector<int> filler;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  int client = testing::ConnectLoopback(s.port());  // takes one of the two
  for (int fd; (fd = dup(0)) >= 0;) filler.push_back(fd);
  ASSERT_GE(client, 0);
  absl::SleepFor(absl::Seconds(1));
  const int64_t failures = s.server().accept_failures();
  // At most one attempt per 100 ms back-off, not a busy loop of thousands.
  EXPECT_GE(failures, 1);
  EXPECT_LE(failures, 20);
  for (int fd : filler) close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &original), 0);
  // Descriptors free again: the waiting connection is accepted and served.
  const std::string req = Get("/now", false);
  ASSERT_EQ(send(client, req.data(), req.size(), MSG_NOSIGNAL), ssize_t(req.size()));
  char buf[512];
  ssize_t n = recv(client, buf, sizeof buf, 0);
  close(client);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf, n).find("200 OK"), std::string::npos);
}

}  // namespace
}  // namespace periscope::gateway
