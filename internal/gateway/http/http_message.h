#pragma once
// HTTP requests and responses as plain values, so that route handlers never see Boost.Beast (and
// so never compile Beast and gRPC headers in one translation unit).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "internal/gateway/http/cancellation.h"

namespace periscope::gateway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-encoded, without the query
  // The request target exactly as received (path and query): what X-Matrix signatures cover.
  std::string target;
  // Query parameters, percent-decoded, in order (a key may repeat, e.g. server_name).
  std::vector<std::pair<std::string, std::string>> query;
  // Header names lower-cased; a header sent several times has its values joined by '\n'.
  std::map<std::string, std::string> headers;
  std::string body;
  // The client's IP address (no port): the key of per-address limits.
  std::string remote_address;
  // Cancelled if the client hangs up before the answer (set by the HTTP server; never null
  // there, but may be in tests that build requests by hand).
  std::shared_ptr<Cancellation> cancellation;

  // The first value of a query parameter, or nullptr.
  const std::string* QueryParam(absl::string_view name) const;
  // All values of a query parameter.
  std::vector<std::string> QueryParams(absl::string_view name) const;
  // A header (name in lower case), or nullptr.
  const std::string* Header(absl::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Completes a request exactly once, from any thread. If the last copy is destroyed without being
// called (a bug in a handler), it answers 500 so that the client never hangs.
class Responder {
 public:
  using SendFn = std::function<void(HttpResponse)>;
  explicit Responder(SendFn send);
  void operator()(HttpResponse response) const;
  // True once a response was sent.
  bool done() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Splits "a=1&b=%20x" into decoded pairs ('+' is a space in queries).
std::vector<std::pair<std::string, std::string>> ParseQuery(absl::string_view query);

// Decodes %XX escapes; nullopt-like false on malformed escapes.
bool PercentDecode(absl::string_view in, std::string* out);

}  // namespace periscope::gateway
