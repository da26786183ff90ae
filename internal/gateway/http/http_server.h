#pragma once
// An asynchronous HTTP/1.1 server (Boost.Beast) that hands each request to a RequestHandler and
// writes the response whenever the handler's Responder is called, from any thread. Waiting
// requests (long-polls) cost a socket and a few buffers, not a thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "internal/gateway/http/http_message.h"

namespace periscope::gateway {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual void Handle(HttpRequest request, Responder respond) = 0;
};

struct HttpListenerOptions {
  std::string host;
  int port = 0;  // 0: any free port
  // TLS: the certificate chain and private key (PEM). Empty: plain HTTP.
  std::string tls_certificate_path;
  std::string tls_private_key_path;
  // Larger bodies are refused with 413 M_TOO_LARGE before the handler runs.
  int64_t body_limit = 1 << 20;
  // How long a connection may take to send a request's headers and body, and how long an idle
  // kept-alive connection is kept (slowloris: a client trickling bytes is cut off). A request
  // being handled (a /sync long-poll) is not subject to it.
  int read_timeout_seconds = 30;
  // Open connections at most, in all and from one address (0: no limit). A connection past a
  // limit is answered 503 M_LIMIT_EXCEEDED and closed at once. Behind a reverse proxy every
  // connection comes from the proxy's address: raise or disable the per-address limit there.
  int max_connections = 20000;
  int max_connections_per_address = 1024;
  // Called (on an I/O thread) for each connection refused for a limit, and each failed accept:
  // for metrics. May be empty.
  std::function<void()> on_refused;
  std::function<void()> on_accept_failure;
};

class HttpServer {
 public:
  explicit HttpServer(int io_threads);
  ~HttpServer();

  // Starts accepting on host:port; returns the bound port. `handler` must outlive the server.
  absl::StatusOr<int> Listen(const HttpListenerOptions& options, RequestHandler& handler);

  // Starts the event-loop threads.
  void Start();
  // Stops accepting, then drains: requests in flight are cancelled (a parked /sync answers at
  // once) and their answers written, with `Connection: close`, for up to `drain`. Then closes
  // every connection and joins the threads. A handler that answers after this finds its
  // connection gone; its answer is dropped. Idempotent.
  void Stop(absl::Duration drain = absl::Seconds(10));

  // accept() failures so far (e.g. EMFILE: out of file descriptors). After one the listener
  // waits before accepting again, so it does not spin on a failure that persists.
  int64_t accept_failures() const;
  // Connections refused for a connection limit so far.
  int64_t connections_refused() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace periscope::gateway
