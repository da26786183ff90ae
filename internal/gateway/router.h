#pragma once
// Routes requests by method and path template, answers CORS preflights and unknown endpoints,
// and records RED metrics labelled by the route template (never the raw path).
//
// Templates: literal segments, "{name}" (one segment, percent-decoded into params), and
// "{name:a|b}" (one of the listed literals), e.g. "/_matrix/client/{version:r0|v3}/login".

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "internal/gateway/http/http_server.h"

namespace prometheus {
class Registry;
}

namespace periscope::gateway {

struct RouteRequest {
  HttpRequest http;
  std::map<std::string, std::string> params;
};

using RouteHandler = std::function<void(RouteRequest request, Responder respond)>;

class Router final : public RequestHandler {
 public:
  // `api` labels the metrics ("client", "federation"); `registry` may be null.
  Router(std::string api, prometheus::Registry* registry);
  ~Router() override;

  void Add(absl::string_view method, absl::string_view pattern, RouteHandler handler);

  void Handle(HttpRequest request, Responder respond) override;

 private:
  struct Segment {
    std::string literal;                    // for a literal segment
    std::string param;                      // for {name}
    std::vector<std::string> alternatives;  // for {name:a|b}
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    RouteHandler handler;
  };
  struct Metrics;

  static bool Match(const Route& route, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>* params);
  Responder Instrument(const std::string& route, const std::string& method, Responder respond);

  std::string api_;
  std::vector<Route> routes_;
  // Shared with the Responders it wraps, which may outlive the router (an upstream answering
  // after the gateway stopped).
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace periscope::gateway
