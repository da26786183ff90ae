#pragma once
// An outbound HTTPS/1.1 client for server-server traffic: connections kept alive and reused per
// destination, connect and request deadlines, a bound on response size, and certificate checks
// that follow the federation spec (the certificate must be valid for the name the request is
// meant for, which is not always the host connected to). Boost.Beast stays inside the .cc.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace periscope::federation {

// How the peer's certificate is checked.
struct TlsVerification {
  enum class Mode {
    kSystemRoots,  // the system's CA store (the default)
    kCaFile,       // only the CAs in `ca_file` (a private test network)
    kNone,         // not checked at all (a private test network; never in production)
  };
  Mode mode = Mode::kSystemRoots;
  std::string ca_file;
};

struct HttpsRequest {
  // Where to connect.
  std::string host;  // DNS name or IP literal (IPv6 without brackets)
  int port = 443;
  // The Host header and the name the certificate must be valid for (and the SNI, unless it is
  // an IP literal). Federation discovery may connect to one host and check another name.
  std::string host_header;
  std::string tls_name;
  std::string method = "GET";
  std::string target;  // path and query, exactly as signed
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with Content-Length when not empty
  // The whole request (connect, TLS, write, read) must finish within this.
  absl::Duration timeout = absl::Seconds(30);
  // Loopback, private, link-local and other non-public addresses are refused (the name may come
  // from anyone: an X-Matrix origin, a user id) unless this is set, for destinations the operator
  // configured (federation.servers) or when federation.allow_private_addresses is on.
  bool allow_private_addresses = false;
};

struct HttpsResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct HttpsClientOptions {
  int io_threads = 1;
  absl::Duration connect_timeout = absl::Seconds(10);
  // A response body larger than this fails the request (RESOURCE_EXHAUSTED).
  int64_t max_response_bytes = 64 << 20;
  // Idle connections kept per destination, and for how long.
  int max_idle_per_destination = 4;
  absl::Duration idle_timeout = absl::Seconds(60);
  TlsVerification tls;
  // Allow non-public addresses for every request (a private test network).
  bool allow_private_addresses = false;
};

// Errors: UNAVAILABLE for name resolution, connection and TLS failures; DEADLINE_EXCEEDED when the
// timeout passes; RESOURCE_EXHAUSTED for an oversize response; INVALID_ARGUMENT for a bad request.
// An HTTP error status is not an error here: it is in the response.
class HttpsClient {
 public:
  using Callback = std::function<void(absl::StatusOr<HttpsResponse>)>;

  static absl::StatusOr<std::unique_ptr<HttpsClient>> Create(HttpsClientOptions options);
  ~HttpsClient();

  // Sends the request; `done` runs once, on one of the client's threads.
  void Send(HttpsRequest request, Callback done);
  // Sends and waits. Never call it from a callback of this client.
  absl::StatusOr<HttpsResponse> SendAndWait(HttpsRequest request);

  // TCP connections opened so far (a reused connection is not counted again).
  int64_t connections_opened() const;

  struct Impl;  // the implementation's, public only so that its request objects can name it

 private:
  explicit HttpsClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace periscope::federation
