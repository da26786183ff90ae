#pragma once
// An asynchronous HTTP/1.1 server (Boost.Beast) that hands each request to a RequestHandler and
// writes the response whenever the handler's Responder is called, from any thread. Waiting
// requests (long-polls) cost a socket and a few buffers, not a thread.

#include <cstdint>
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
  // Larger bodies are refused with 413 M_TOO_LARGE before the handler runs.
  int64_t body_limit = 1 << 20;
  // How long a connection may take to send a request.
  int read_timeout_seconds = 60;
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace periscope::gateway
