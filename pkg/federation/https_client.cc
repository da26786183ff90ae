// The only translation unit of pkg/federation that includes Boost.Beast.

#include "pkg/federation/https_client.h"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace periscope::federation {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

bool IsIpLiteral(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// Addresses a request named by someone else must not reach (as Synapse's default
// ip_range_blacklist): this host, private networks, link-local, CGNAT, multicast, reserved.
bool IsNonPublic(const net::ip::address& address) {
  if (address.is_v6()) {
    net::ip::address_v6 v6 = address.to_v6();
    if (v6.is_v4_mapped()) return IsNonPublic(net::ip::make_address_v4(net::ip::v4_mapped, v6));
    auto b = v6.to_bytes();
    return v6.is_loopback() || v6.is_unspecified() || v6.is_link_local() || v6.is_multicast() ||
           (b[0] & 0xfe) == 0xfc /* fc00::/7 unique local */;
  }
  uint32_t a = address.to_v4().to_uint();
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8) || in(0x0a000000, 8) || in(0x7f000000, 8) || in(0x64400000, 10) ||
         in(0xa9fe0000, 16) || in(0xac100000, 12) || in(0xc0000000, 24) || in(0xc0000200, 24) ||
         in(0xc0a80000, 16) || in(0xc6120000, 15) || in(0xc6336400, 24) || in(0xcb007100, 24) ||
         in(0xe0000000, 4) || in(0xf0000000, 4);
}

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

}  // namespace

// One kept-alive TLS connection, bound to its own strand.
struct PooledConnection {
  explicit PooledConnection(net::any_io_executor strand, ssl::context& tls)
      : stream(beast::tcp_stream(strand), tls) {}
  beast::ssl_stream<beast::tcp_stream> stream;
  SteadyTime idle_since;
};

struct HttpsClient::Impl {
  explicit Impl(HttpsClientOptions o) : options(std::move(o)) {}

  HttpsClientOptions options;
  std::unique_ptr<net::io_context> io = std::make_unique<net::io_context>();
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  ssl::context tls{ssl::context::tls_client};
  std::vector<std::thread> threads;
  std::atomic<int64_t> opened{0};

  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::vector<std::unique_ptr<PooledConnection>>> idle
      ABSL_GUARDED_BY(mu);

  // A live idle connection to `key`, or null.
  std::unique_ptr<PooledConnection> TakeIdle(const std::string& key) {
    absl::MutexLock lock(&mu);
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    SteadyTime oldest = std::chrono::steady_clock::now() - ToChrono(options.idle_timeout);
    while (!it->second.empty()) {
      std::unique_ptr<PooledConnection> c = std::move(it->second.back());
      it->second.pop_back();
      if (c->idle_since >= oldest) return c;
    }
    return nullptr;
  }

  void ReturnIdle(const std::string& key, std::unique_ptr<PooledConnection> c) {
    c->idle_since = std::chrono::steady_clock::now();
    absl::MutexLock lock(&mu);
    auto& list = idle[key];
    if (static_cast<int>(list.size()) < options.max_idle_per_destination) {
      list.push_back(std::move(c));
    }
  }
};

namespace {

// The callback of one request, run exactly once: with the result, or CANCELLED if the client is
// destroyed first (its pending work, and so this, is destroyed with it).
class OnceCallback {
 public:
  explicit OnceCallback(HttpsClient::Callback done) : done_(std::move(done)) {}
  ~OnceCallback() {
    if (done_) done_(absl::CancelledError("the HTTPS client was stopped"));
  }
  void Run(absl::StatusOr<HttpsResponse> result) {
    HttpsClient::Callback done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(result));
  }

 private:
  HttpsClient::Callback done_;
};

// One request: take or open a connection, write, read, give the connection back.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(HttpsClient::Impl* impl, HttpsRequest request, HttpsClient::Callback done)
      : impl_(impl),
        request_(std::move(request)),
        done_(std::move(done)),
        deadline_(std::chrono::steady_clock::now() + ToChrono(request_.timeout)),
        key_(absl::StrCat(request_.host, "|", request_.port, "|", request_.tls_name, "|",
                          request_.allow_private_addresses)) {}

  void Start() {
    if (request_.host.empty() || request_.port <= 0 || request_.port > 65535 ||
        request_.target.empty() || request_.target[0] != '/') {
      return done_.Run(absl::InvalidArgumentError(
          absl::StrCat("bad HTTPS request to ", request_.host, ":", request_.port)));
    }
    if (std::unique_ptr<PooledConnection> c = impl_->TakeIdle(key_)) {
      connection_ = std::move(c);
      reused_ = true;
      net::dispatch(connection_->stream.get_executor(),
                    [self = shared_from_this()] { self->Write(); });
      return;
    }
    Open();
  }

 private:
  void Open() {
    reused_ = false;
    auto strand = net::make_strand(*impl_->io);
    connection_ = std::make_unique<PooledConnection>(strand, impl_->tls);
    resolver_.emplace(strand);
    resolve_timer_.emplace(strand);
    resolve_timer_->expires_at(std::min(
        deadline_, std::chrono::steady_clock::now() + ToChrono(impl_->options.connect_timeout)));
    resolve_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->resolver_->cancel();  // the lookup took too long
    });
    resolver_->async_resolve(
        request_.host, std::to_string(request_.port),
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
          self->resolve_timer_->cancel();
          if (ec) {
            return self->Fail(absl::UnavailableError(
                absl::StrCat("cannot resolve ", self->request_.host, ": ",
                             ec == net::error::operation_aborted ? "timed out" : ec.message())));
          }
          self->Connect(self->Allowed(results));
        });
  }

  // The resolved addresses this request may connect to.
  std::vector<tcp::endpoint> Allowed(const tcp::resolver::results_type& results) const {
    std::vector<tcp::endpoint> allowed;
    for (const auto& entry : results) {
      if (request_.allow_private_addresses || impl_->options.allow_private_addresses ||
          !IsNonPublic(entry.endpoint().address())) {
        allowed.push_back(entry.endpoint());
      }
    }
    return allowed;
  }

  void Connect(const std::vector<tcp::endpoint>& endpoints) {
    if (endpoints.empty()) {
      return Fail(absl::UnavailableError(absl::StrCat(
          request_.host,
          " resolves only to non-public addresses, which federation does not contact (name the "
          "server in federation.servers, or set federation.allow_private_addresses)")));
    }
    beast::tcp_stream& tcp = beast::get_lowest_layer(connection_->stream);
    tcp.expires_at(std::min(
        deadline_, std::chrono::steady_clock::now() + ToChrono(impl_->options.connect_timeout)));
    tcp.async_connect(endpoints,
                      [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                        if (ec) {
                          return self->Fail(self->Unavailable("cannot connect to", ec));
                        }
                        ++self->impl_->opened;
                        self->Handshake();
                      });
  }

  void Handshake() {
    SSL* ssl = connection_->stream.native_handle();
    const std::string& name = request_.tls_name.empty() ? request_.host : request_.tls_name;
    // An IP literal gets no SNI (the spec: certificates for IP addresses are checked by address).
    if (!IsIpLiteral(name)) SSL_set_tlsext_host_name(ssl, name.c_str());
    if (impl_->options.tls.mode != TlsVerification::Mode::kNone) {
      connection_->stream.set_verify_mode(ssl::verify_peer);
      connection_->stream.set_verify_callback(ssl::host_name_verification(name));
    } else {
      connection_->stream.set_verify_mode(ssl::verify_none);
    }
    beast::get_lowest_layer(connection_->stream).expires_at(deadline_);
    connection_->stream.async_handshake(
        ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
          if (ec) return self->Fail(self->Unavailable("TLS handshake failed with", ec));
          self->Write();
        });
  }

  void Write() {
    message_.emplace();
    message_->version(11);
    message_->method_string(request_.method);
    message_->target(request_.target);
    message_->set(http::field::host,
                  request_.host_header.empty() ? request_.host : request_.host_header);
    message_->set(http::field::user_agent, "Periscope");
    for (const auto& [name, value] : request_.headers) message_->set(name, value);
    message_->keep_alive(true);
    if (!request_.body.empty() || request_.method == "PUT" || request_.method == "POST") {
      message_->body() = request_.body;
      message_->prepare_payload();
    }
    beast::get_lowest_layer(connection_->stream).expires_at(deadline_);
    http::async_write(connection_->stream, *message_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnIoError("cannot send to", ec);
                        self->Read();
                      });
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(impl_->options.max_response_bytes));
    parser_->header_limit(64 * 1024);
    http::async_read(connection_->stream, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::body_limit) {
                         return self->Fail(absl::ResourceExhaustedError(absl::StrCat(
                             "the response of ", self->request_.host, " is larger than ",
                             self->impl_->options.max_response_bytes, " bytes")));
                       }
                       if (ec) return self->OnIoError("no response from", ec);
                       self->Finish();
                     });
  }

  // A kept-alive connection the server had already closed fails at once, before any response
  // byte: that one request is tried again on a new connection.
  void OnIoError(const char* what, beast::error_code ec) {
    bool nothing_received = !parser_ || !parser_->got_some();
    if (reused_ && nothing_received && ec != beast::error::timeout) {
      connection_.reset();
      buffer_.clear();
      return Open();
    }
    Fail(Unavailable(what, ec));
  }

  void Finish() {
    http::response<http::string_body> message = parser_->release();
    HttpsResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers[absl::AsciiStrToLower(absl::string_view(
          field.name_string().data(), field.name_string().size()))] = std::string(field.value());
    }
    response.body = std::move(message.body());
    if (message.keep_alive() && buffer_.size() == 0) {
      beast::get_lowest_layer(connection_->stream).expires_never();
      impl_->ReturnIdle(key_, std::move(connection_));
    } else {
      Close();
    }
    done_.Run(std::move(response));
  }

  absl::Status Unavailable(const char* what, beast::error_code ec) {
    if (ec == beast::error::timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out: ", what, " ", request_.host, ":", request_.port));
    }
    return absl::UnavailableError(
        absl::StrCat(what, " ", request_.host, ":", request_.port, ": ", ec.message()));
  }

  void Fail(absl::Status status) {
    Close();
    done_.Run(std::move(status));
  }

  void Close() {
    if (!connection_) return;
    beast::error_code ignored;
    beast::get_lowest_layer(connection_->stream)
        .socket()
        .shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(connection_->stream).close();
    connection_.reset();
  }

  HttpsClient::Impl* impl_;
  HttpsRequest request_;
  OnceCallback done_;
  SteadyTime deadline_;
  std::string key_;
  std::unique_ptr<PooledConnection> connection_;
  bool reused_ = false;
  std::optional<tcp::resolver> resolver_;
  std::optional<net::steady_timer> resolve_timer_;
  std::optional<http::request<http::string_body>> message_;
  std::optional<http::response_parser<http::string_body>> parser_;
  beast::flat_buffer buffer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpsClient>> HttpsClient::Create(HttpsClientOptions options) {
  auto impl = std::make_shared<Impl>(std::move(options));
  impl->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  switch (impl->options.tls.mode) {
    case TlsVerification::Mode::kSystemRoots:
      impl->tls.set_default_verify_paths(ec);
      break;
    case TlsVerification::Mode::kCaFile:
      impl->tls.load_verify_file(impl->options.tls.ca_file, ec);
      break;
    case TlsVerification::Mode::kNone:
      break;
  }
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("cannot load the CA certificates ",
                                                   impl->options.tls.ca_file, ": ", ec.message()));
  }
  impl->work.emplace(net::make_work_guard(*impl->io));
  for (int i = 0; i < std::max(1, impl->options.io_threads); ++i) {
    impl->threads.emplace_back([raw = impl.get()] { raw->io->run(); });
  }
  return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(impl)));
}

HttpsClient::HttpsClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsClient::~HttpsClient() {
  impl_->work.reset();
  impl_->io->stop();
  for (auto& t : impl_->threads) t.join();
  {
    absl::MutexLock lock(&impl_->mu);
    impl_->idle.clear();
  }
  // Destroys the requests still pending; each answers CANCELLED.
  impl_->io.reset();
}

void HttpsClient::Send(HttpsRequest request, Callback done) {
  std::make_shared<Exchange>(impl_.get(), std::move(request), std::move(done))->Start();
}

absl::StatusOr<HttpsResponse> HttpsClient::SendAndWait(HttpsRequest request) {
  struct Result {
    absl::Notification done;
    absl::StatusOr<HttpsResponse> value = absl::UnknownError("no answer");
  };
  auto result = std::make_shared<Result>();
  Send(std::move(request), [result](absl::StatusOr<HttpsResponse> r) {
    result->value = std::move(r);
    result->done.Notify();
  });
  result->done.WaitForNotification();
  return std::move(result->value);
}

int64_t HttpsClient::connections_opened() const { return impl_->opened.load(); }

}  // namespace periscope::federation
