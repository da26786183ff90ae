// The only translation unit that includes Boost.Beast.

#include "internal/gateway/http/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "pkg/logging/logging.h"

namespace periscope::gateway {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr char kTooLarge[] = R"({"errcode":"M_TOO_LARGE","error":"The request body is too large"})";
constexpr char kMalformed[] = R"({"errcode":"M_UNKNOWN","error":"Malformed HTTP request"})";
constexpr char kTooManyConnections[] =
    R"({"errcode":"M_LIMIT_EXCEEDED","error":"Too many open connections; try again later"})";
constexpr char kShuttingDown[] =
    R"({"errcode":"M_UNKNOWN","error":"The server is shutting down; retry"})";

HttpRequest ToHttpRequest(const http::request<http::string_body>& req, const std::string& remote) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  absl::string_view target(req.target().data(), req.target().size());
  size_t q = target.find('?');
  out.target = std::string(target);
  out.path = std::string(target.substr(0, q));
  if (q != absl::string_view::npos) out.query = ParseQuery(target.substr(q + 1));
  for (const auto& field : req) {
    std::string& value = out.headers[absl::AsciiStrToLower(
        absl::string_view(field.name_string().data(), field.name_string().size()))];
    // A repeated header (several X-Matrix Authorization headers) keeps every value.
    if (!value.empty()) value.push_back('\n');
    value.append(field.value().data(), field.value().size());
  }
  out.body = req.body();
  out.remote_address = remote;
  return out;
}

// What AwaitingSessions needs of a connection, whatever its transport (TCP or TLS over TCP).
class Session : public std::enable_shared_from_this<Session> {
 public:
  virtual ~Session() = default;
  // Both run on the session's strand (see Post).
  virtual void Write(HttpResponse response) = 0;
  virtual void WatchForHangUp() = 0;
  virtual net::any_io_executor executor() = 0;

  // Posts `fn(session)` to the session's strand; the posted work owns the session.
  template <typename Fn>
  static void Post(std::shared_ptr<Session> session, Fn fn) {
    auto executor = session->executor();
    net::post(executor,
              [session = std::move(session), fn = std::move(fn)]() mutable { fn(*session); });
  }
};

// The sessions whose request a handler is working on, each with its request's Cancellation. This
// owns them while they wait (a waiting session has no pending I/O to keep it alive), and is the
// only way a Responder or a Cancellation reaches its session: one called after Stop, from an
// upstream's thread, finds nothing here instead of a session whose io_context is gone. Work for
// a session is posted to its strand under the lock, so Stop (which closes this first) never
// destroys the io_context between the lookup and the post.
class AwaitingSessions {
 public:
  // False once the server is draining or stopped: the request is refused.
  bool Add(std::shared_ptr<Session> session, std::shared_ptr<Cancellation> cancellation);
  // Hands the answer to the session's strand; dropped if the server has stopped.
  void Answer(Session* session, HttpResponse response);
  // The answer is written (or the client is gone): the session is no longer in flight.
  void Written(Session* session);
  // Starts watching the session's connection for a hang-up, if it still awaits its answer.
  void WatchForHangUp(Session* session);

  // Refuses new requests and cancels those in flight (a parked /sync answers at once).
  void BeginDrain();
  bool draining() const;
  // Waits until every request in flight was answered and written, or `timeout` passed; returns
  // the number left.
  size_t AwaitWritten(absl::Duration timeout);
  // From now on nothing reaches a session; returns those still waiting, to destroy while their
  // io_context still exists.
  std::vector<std::shared_ptr<Session>> Close();

 private:
  struct Entry {
    std::shared_ptr<Session> session;
    std::shared_ptr<Cancellation> cancellation;
    bool answered = false;
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Session*, Entry> waiting_ ABSL_GUARDED_BY(mu_);
  // Set under mu_ (so Add sees it with the table); read without it on every write.
  std::atomic<bool> draining_{false};
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// Open connections of one listener, in all and per remote address. A session holds a Slot for
// its lifetime; destroying it frees the place.
class ConnectionLimits : public std::enable_shared_from_this<ConnectionLimits> {
 public:
  ConnectionLimits(int max_total, int max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  class Slot {
   public:
    Slot(std::shared_ptr<ConnectionLimits> limits, std::string address)
        : limits_(std::move(limits)), address_(std::move(address)) {}
    ~Slot() { limits_->Release(address_); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    std::shared_ptr<ConnectionLimits> limits_;
    std::string address_;
  };

  // A place for a new connection from `address`, or null if a limit is reached.
  std::unique_ptr<Slot> TryAcquire(const std::string& address) {
    absl::MutexLock lock(&mu_);
    int& from_address = per_address_[address];
    if ((max_total_ > 0 && total_ >= max_total_) ||
        (max_per_address_ > 0 && from_address >= max_per_address_)) {
      if (from_address == 0) per_address_.erase(address);
      return nullptr;
    }
    ++total_;
    ++from_address;
    return std::make_unique<Slot>(shared_from_this(), address);
  }

 private:
  void Release(const std::string& address) {
    absl::MutexLock lock(&mu_);
    --total_;
    if (auto it = per_address_.find(address); it != per_address_.end() && --it->second <= 0) {
      per_address_.erase(it);
    }
  }

  const int max_total_;
  const int max_per_address_;
  absl::Mutex mu_;
  int total_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> per_address_ ABSL_GUARDED_BY(mu_);
};

// A connection of a plain (Stream = beast::tcp_stream) or TLS (beast::ssl_stream<tcp_stream>)
// listener. TLS adds only the handshake before the first read; everything else goes through
// the stream or its lowest layer, the TCP stream with its deadlines.
template <typename Stream>
class StreamSession final : public Session {
 public:
  StreamSession(Stream stream, RequestHandler& handler, const HttpListenerOptions& options,
                std::shared_ptr<AwaitingSessions> awaiting,
                std::unique_ptr<ConnectionLimits::Slot> slot)
      : stream_(std::move(stream)),
        awaiting_(std::move(awaiting)),
        handler_(handler),
        options_(options),
        slot_(std::move(slot)) {
    beast::error_code ec;
    auto ep = Tcp().socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = Self()] {
      if constexpr (kTls) {
        self->Tcp().expires_after(std::chrono::seconds(self->options_.read_timeout_seconds));
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) return self->Close();  // not TLS, a bad client hello, or too slow
          self->Read();
        });
      } else {
        self->Read();
      }
    });
  }

  net::any_io_executor executor() override { return stream_.get_executor(); }

  // While a handler works, reads from the connection: end of stream or a reset means the client
  // hung up, and the request is cancelled. Bytes that do arrive (a pipelined request) are kept for
  // the next read, and the watch ends there. Write stops the watch before it writes.
  void WatchForHangUp() override {
    if (answered_ || watching_) return;
    watching_ = true;
    stream_.async_read_some(
        buffer_.prepare(kWatchBytes),
        [self = Self()](beast::error_code ec, size_t n) { self->OnWatch(ec, n); });
  }

  void Write(HttpResponse response) override {
    answered_ = true;
    cancellation_.reset();
    if (watching_) {
      // One read at a time: end the watch, and write when its handler has run.
      pending_ = std::move(response);
      beast::error_code ignored;
      Tcp().socket().cancel(ignored);
      return;
    }
    if (client_gone_) {
      awaiting_->Written(this);
      return Close();
    }
    // A draining server answers what it has, then closes, so the client reconnects elsewhere.
    if (awaiting_->draining()) keep_alive_ = false;
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(response.status));
    res->set(http::field::server, "Periscope");
    res->set(http::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res->set(k, v);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    auto self = Self();
    Tcp().expires_after(std::chrono::seconds(options_.read_timeout_seconds));
    http::async_write(stream_, *res, [self, res](beast::error_code ec, size_t) {
      self->awaiting_->Written(self.get());
      if (!ec && self->discarding_input_) return self->Drain();
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  std::shared_ptr<StreamSession> Self() {
    return std::static_pointer_cast<StreamSession>(shared_from_this());
  }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  void Read() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(options_.body_limit));
    parser_->header_limit(16 * 1024);
    Tcp().expires_after(std::chrono::seconds(options_.read_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     [self = Self()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == ssl::error::stream_truncated) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      // Answer at once, then read and discard what the client is still sending, so that it can
      // finish writing and actually see the 413 rather than a connection reset.
      discarding_input_ = true;
      return WriteError(413, kTooLarge);
    }
    if (ec) {
      return WriteError(400, kMalformed);
    }
    http::request<http::string_body> message = parser_->release();
    // The parser and Beast's message are let go of now: a parked /sync keeps only the plain copy.
    parser_.reset();
    keep_alive_ = message.keep_alive();
    HttpRequest request = ToHttpRequest(message, remote_);
    // While the handler works (a long-poll may wait minutes) the read deadline must not fire.
    Tcp().expires_never();
    answered_ = false;
    // A handler that registers for a hang-up (a /sync long-poll) gets the connection watched.
    request.cancellation = std::make_shared<Cancellation>(
        [awaiting = awaiting_, raw = this] { awaiting->WatchForHangUp(raw); });
    cancellation_ = request.cancellation;
    if (!awaiting_->Add(shared_from_this(), cancellation_)) {
      keep_alive_ = false;
      return Write(HttpResponse{503, "application/json", kShuttingDown, {}});
    }
    // The handler may answer much later, from another thread; the write runs on this strand.
    Responder respond([awaiting = awaiting_, raw = this](HttpResponse response) {
      awaiting->Answer(raw, std::move(response));
    });
    handler_.Handle(std::move(request), std::move(respond));
  }

  void OnWatch(beast::error_code ec, size_t n) {
    watching_ = false;
    buffer_.commit(n);
    if (ec && ec != net::error::operation_aborted) {
      client_gone_ = true;
      if (cancellation_) cancellation_->Cancel();
    }
    if (pending_) {
      HttpResponse response = std::move(*pending_);
      pending_.reset();
      Write(std::move(response));
    }
  }

  void WriteError(int status, const char* body) {
    keep_alive_ = false;
    Write(HttpResponse{status, "application/json", body, {}});
  }

  // Discards input until the client closes, for at most kDrainTime or kDrainBytes.
  void Drain() {
    static constexpr size_t kDrainBytes = 64 << 20;
    if constexpr (!kTls) {
      beast::error_code ignored;
      Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    if (drain_started_ == std::chrono::steady_clock::time_point()) {
      drain_started_ = std::chrono::steady_clock::now();
      Tcp().expires_after(std::chrono::seconds(5));
    }
    if (drained_ > kDrainBytes) return Close();
    drain_buffer_.resize(64 * 1024);
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = Self()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->drained_ += n;
                              self->Drain();
                            });
  }

  // Closes the TCP connection. A TLS session ends without close_notify: the response carried
  // `Connection: close` or a Content-Length, so a client cannot mistake it for a truncation.
  void Close() {
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    Tcp().close();
  }

  static constexpr size_t kWatchBytes = 512;

  Stream stream_;
  std::shared_ptr<AwaitingSessions> awaiting_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // The request being handled: whether it has been answered, and its hang-up watch.
  bool answered_ = true;
  bool watching_ = false;
  bool client_gone_ = false;
  std::shared_ptr<Cancellation> cancellation_;
  std::optional<HttpResponse> pending_;
  RequestHandler& handler_;
  HttpListenerOptions options_;
  std::string remote_;
  bool keep_alive_ = true;
  bool discarding_input_ = false;  // after a 413: read and drop the rest of the body
  // This connection's place under the listener's connection limits, freed with the session.
  std::unique_ptr<ConnectionLimits::Slot> slot_;
  size_t drained_ = 0;
  std::vector<char> drain_buffer_;
  std::chrono::steady_clock::time_point drain_started_;
};

bool AwaitingSessions::Add(std::shared_ptr<Session> session,
                           std::shared_ptr<Cancellation> cancellation) {
  absl::MutexLock lock(&mu_);
  if (draining_ || closed_) return false;
  Session* key = session.get();
  waiting_[key] = Entry{std::move(session), std::move(cancellation)};
  return true;
}

void AwaitingSessions::Answer(Session* session, HttpResponse response) {
  absl::MutexLock lock(&mu_);
  auto it = waiting_.find(session);
  if (it == waiting_.end() || it->second.answered) return;  // stopped: nobody is left to write to
  it->second.answered = true;
  Session::Post(it->second.session, [response = std::move(response)](Session& s) mutable {
    s.Write(std::move(response));
  });
}

void AwaitingSessions::Written(Session* session) {
  absl::MutexLock lock(&mu_);
  waiting_.erase(session);
}

void AwaitingSessions::WatchForHangUp(Session* session) {
  absl::MutexLock lock(&mu_);
  auto it = waiting_.find(session);
  if (it == waiting_.end() || it->second.answered) return;
  Session::Post(it->second.session, [](Session& s) { s.WatchForHangUp(); });
}

void AwaitingSessions::BeginDrain() {
  std::vector<std::shared_ptr<Cancellation>> cancellations;
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    for (auto& [key, entry] : waiting_) cancellations.push_back(entry.cancellation);
  }
  for (auto& c : cancellations) c->Cancel();  // outside the lock: a cancel may answer at once
}

bool AwaitingSessions::draining() const { return draining_.load(); }

size_t AwaitingSessions::AwaitWritten(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto all_answered = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return waiting_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&all_answered), timeout);
  return waiting_.size();
}

std::vector<std::shared_ptr<Session>> AwaitingSessions::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  std::vector<std::shared_ptr<Session>> left;
  for (auto& [key, entry] : waiting_) left.push_back(std::move(entry.session));
  waiting_.clear();
  return left;
}

// Counters the server exposes (accept failures, refused connections).
struct ListenerCounters {
  std::atomic<int64_t> accept_failures{0};
  std::atomic<int64_t> refused{0};
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& io, RequestHandler& handler, HttpListenerOptions options,
           std::shared_ptr<AwaitingSessions> awaiting, std::shared_ptr<ListenerCounters> counters)
      : io_(io),
        acceptor_(net::make_strand(io)),
        retry_timer_(acceptor_.get_executor()),
        handler_(handler),
        options_(std::move(options)),
        awaiting_(std::move(awaiting)),
        limits_(std::make_shared<ConnectionLimits>(options_.max_connections,
                                                   options_.max_connections_per_address)),
        counters_(std::move(counters)) {}

  absl::StatusOr<int> Open() {
    if (!options_.tls_certificate_path.empty()) {
      if (absl::Status s = LoadTls(); !s.ok()) return s;
    }
    beast::error_code ec;
    auto address = net::ip::make_address(options_.host, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("bad listen host ", options_.host));
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("HTTP: cannot listen on ", options_.host, ":",
                                                 options_.port, ": ", ec.message()));
    }
    return acceptor_.local_endpoint().port();
  }

  void Accept() {
    acceptor_.async_accept(net::make_strand(io_),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                             self->OnAccept(ec, std::move(socket));
                           });
  }

  void Close() {
    net::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->retry_timer_.cancel();
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors (EMFILE/ENFILE), or buffers: the pending connection stays in the
      // backlog, so accepting again at once would fail again at once, at full CPU. Wait a little.
      ++counters_->accept_failures;
      if (options_.on_accept_failure) options_.on_accept_failure();
      if (absl::Now() - last_failure_log_ > absl::Seconds(5)) {
        logging::Warn("http.accept_failed", {{"error", ec.message()}});
        last_failure_log_ = absl::Now();
      }
      retry_timer_.expires_after(kAcceptRetry);
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (wait_ec != net::error::operation_aborted) self->Accept();
      });
      return;
    }
    beast::error_code addr_ec;
    tcp::endpoint remote = socket.remote_endpoint(addr_ec);
    std::string address = addr_ec ? "" : remote.address().to_string();
    if (std::unique_ptr<ConnectionLimits::Slot> slot = limits_->TryAcquire(address)) {
      if (tls_) {
        std::make_shared<StreamSession<beast::ssl_stream<beast::tcp_stream>>>(
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls_),
            handler_, options_, awaiting_, std::move(slot))
            ->Start();
      } else {
        std::make_shared<StreamSession<beast::tcp_stream>>(
            beast::tcp_stream(std::move(socket)), handler_, options_, awaiting_, std::move(slot))
            ->Start();
      }
    } else {
      ++counters_->refused;
      if (options_.on_refused) options_.on_refused();
      if (tls_) {
        beast::error_code ignored;  // a plain-text answer would be noise to a TLS client
        socket.close(ignored);
      } else {
        Refuse(std::move(socket));
      }
    }
    Accept();
  }

  // The listener's certificate chain and private key (PEM files), TLS 1.2 or later.
  absl::Status LoadTls() {
    auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    context->use_certificate_chain_file(options_.tls_certificate_path, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS certificate ", options_.tls_certificate_path, " cannot be used: ", ec.message()));
    }
    context->use_private_key_file(options_.tls_private_key_path, ssl::context::pem, ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS private key ", options_.tls_private_key_path, " cannot be used: ", ec.message()));
    }
    tls_ = std::move(context);
    return absl::OkStatus();
  }

  // Answers a connection past a limit and closes it, without reading its request.
  static void Refuse(tcp::socket socket) {
    static const std::string kRefusal = absl::StrCat(
        "HTTP/1.1 503 Service Unavailable\r\nServer: Periscope\r\nContent-Type: "
        "application/json\r\nConnection: close\r\nContent-Length: ",
        std::string_view(kTooManyConnections).size(), "\r\n\r\n", kTooManyConnections);
    auto owned = std::make_shared<tcp::socket>(std::move(socket));
    net::async_write(*owned, net::buffer(kRefusal), [owned](beast::error_code, size_t) {
      beast::error_code ignored;
      owned->shutdown(tcp::socket::shutdown_send, ignored);
      owned->close(ignored);
    });
  }

  static constexpr std::chrono::milliseconds kAcceptRetry{100};

  net::io_context& io_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  RequestHandler& handler_;
  HttpListenerOptions options_;
  std::shared_ptr<AwaitingSessions> awaiting_;
  std::shared_ptr<ConnectionLimits> limits_;
  std::shared_ptr<ListenerCounters> counters_;
  absl::Time last_failure_log_ = absl::InfinitePast();
  std::unique_ptr<ssl::context> tls_;  // null: plain HTTP
};

}  // namespace

struct HttpServer::Impl {
  explicit Impl(int threads) : io(threads), thread_count(threads) {}
  net::io_context io;
  int thread_count;
  // Keeps the threads running while nothing is pending: during a drain the acceptor is closed
  // and a request waiting on its handler has no I/O in flight, yet its answer must be written.
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  std::shared_ptr<AwaitingSessions> awaiting = std::make_shared<AwaitingSessions>();
  std::shared_ptr<ListenerCounters> counters = std::make_shared<ListenerCounters>();
  std::vector<std::shared_ptr<Listener>> listeners;
  std::vector<std::thread> threads;
  bool stopped = false;
};

HttpServer::HttpServer(int io_threads) : impl_(std::make_unique<Impl>(io_threads)) {}

HttpServer::~HttpServer() { Stop(absl::ZeroDuration()); }

absl::StatusOr<int> HttpServer::Listen(const HttpListenerOptions& options,
                                       RequestHandler& handler) {
  auto listener =
      std::make_shared<Listener>(impl_->io, handler, options, impl_->awaiting, impl_->counters);
  absl::StatusOr<int> port = listener->Open();
  if (!port.ok()) return port.status();
  listener->Accept();
  impl_->listeners.push_back(std::move(listener));
  return port;
}

int64_t HttpServer::accept_failures() const { return impl_->counters->accept_failures.load(); }

int64_t HttpServer::connections_refused() const { return impl_->counters->refused.load(); }

void HttpServer::Start() {
  for (int i = 0; i < impl_->thread_count; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
}

void HttpServer::Stop(absl::Duration drain) {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  for (auto& l : impl_->listeners) l->Close();
  impl_->listeners.clear();
  if (!impl_->threads.empty() && drain > absl::ZeroDuration()) {
    impl_->awaiting->BeginDrain();
    if (size_t left = impl_->awaiting->AwaitWritten(drain); left > 0) {
      logging::Warn("http.drain_incomplete", {{"unanswered", static_cast<int64_t>(left)}});
    }
  }
  std::vector<std::shared_ptr<Session>> unanswered = impl_->awaiting->Close();
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  unanswered.clear();  // while the io_context they belong to still exists
}

}  // namespace periscope::gateway
