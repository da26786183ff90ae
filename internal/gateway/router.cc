#include "internal/gateway/router.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "internal/gateway/matrix_json.h"
#include "pkg/matrix/errcodes.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace periscope::gateway {
namespace {

std::vector<std::string> SplitPath(absl::string_view path) {
  return absl::StrSplit(path, '/', absl::SkipEmpty());
}

void AddCorsHeaders(HttpResponse& response) {
  response.headers.emplace_back("Access-Control-Allow-Origin", "*");
  response.headers.emplace_back("Access-Control-Allow-Methods",
                                "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  response.headers.emplace_back("Access-Control-Allow-Headers",
                                "X-Requested-With, Content-Type, Authorization");
}

}  // namespace

struct Router::Metrics {
  explicit Metrics(prometheus::Registry& r)
      : requests(prometheus::BuildCounter()
                     .Name("periscope_gateway_http_requests_total")
                     .Help("HTTP requests answered, by API, route template, method and status.")
                     .Register(r)),
        duration(prometheus::BuildHistogram()
                     .Name("periscope_gateway_http_request_duration_seconds")
                     .Help("Time from receiving a request to handing over its response.")
                     .Register(r)),
        in_flight(prometheus::BuildGauge()
                      .Name("periscope_gateway_http_requests_in_flight")
                      .Help("Requests received and not yet answered (long-polls included).")
                      .Register(r)) {}
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Gauge>& in_flight;
};

Router::Router(std::string api, prometheus::Registry* registry) : api_(std::move(api)) {
  if (registry != nullptr) metrics_ = std::make_shared<Metrics>(*registry);
}

Router::~Router() = default;

void Router::Add(absl::string_view method, absl::string_view pattern, RouteHandler handler) {
  Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
  for (const std::string& part : SplitPath(pattern)) {
    Segment seg;
    if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
      std::string inner = part.substr(1, part.size() - 2);
      size_t colon = inner.find(':');
      seg.param = inner.substr(0, colon);
      if (colon != std::string::npos) {
        seg.alternatives = absl::StrSplit(inner.substr(colon + 1), '|');
      }
    } else {
      seg.literal = part;
    }
    route.segments.push_back(std::move(seg));
  }
  routes_.push_back(std::move(route));
}

bool Router::Match(const Route& route, const std::vector<std::string>& segments,
                   std::map<std::string, std::string>* params) {
  if (route.segments.size() != segments.size()) return false;
  params->clear();
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& seg = route.segments[i];
    if (seg.param.empty()) {
      if (seg.literal != segments[i]) return false;
      continue;
    }
    std::string decoded;
    if (!PercentDecode(segments[i], &decoded)) return false;
    if (!seg.alternatives.empty() && std::find(seg.alternatives.begin(), seg.alternatives.end(),
                                               decoded) == seg.alternatives.end()) {
      return false;
    }
    (*params)[seg.param] = std::move(decoded);
  }
  return true;
}

Responder Router::Instrument(const std::string& route, const std::string& method,
                             Responder respond) {
  auto start = std::chrono::steady_clock::now();
  prometheus::Gauge* in_flight = nullptr;
  if (metrics_) {
    in_flight = &metrics_->in_flight.Add({{"api", api_}});
    in_flight->Increment();
  }
  // Captures no `this`: the answer may come after the router is gone.
  return Responder([metrics = metrics_, api = api_, route, method, start, in_flight,
                    respond = std::move(respond)](HttpResponse response) {
    AddCorsHeaders(response);
    if (metrics) {
      in_flight->Decrement();
      metrics->requests
          .Add({{"api", api},
                {"route", route},
                {"method", method},
                {"code", std::to_string(response.status)}})
          .Increment();
      metrics->duration
          .Add({{"api", api}, {"route", route}, {"method", method}},
               prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                       0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})
          .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    respond(std::move(response));
  });
}

void Router::Handle(HttpRequest request, Responder respond) {
  std::vector<std::string> segments = SplitPath(request.path);
  // Only methods the gateway knows become a metric label; anything else is "other".
  static const std::vector<std::string> kMethods = {"GET", "HEAD",   "POST",
                                                    "PUT", "DELETE", "OPTIONS"};
  std::string method_label =
      std::find(kMethods.begin(), kMethods.end(), request.method) != kMethods.end() ? request.method
                                                                                    : "other";
  const Route* path_match = nullptr;
  std::map<std::string, std::string> params;
  for (const Route& route : routes_) {
    if (!Match(route, segments, &params)) continue;
    if (route.method == request.method) {
      Responder instrumented = Instrument(route.pattern, method_label, std::move(respond));
      route.handler(RouteRequest{std::move(request), std::move(params)}, std::move(instrumented));
      return;
    }
    if (path_match == nullptr) path_match = &route;
  }
  if (request.method == "OPTIONS") {
    // CORS preflight: any path, answered with the CORS headers and an empty object.
    Instrument(path_match ? path_match->pattern : "unmatched", method_label,
               std::move(respond))(JsonResponse(200, Json::object()));
    return;
  }
  if (path_match != nullptr) {
    Instrument(path_match->pattern, method_label, std::move(respond))(MatrixErrorResponse(
        405, matrix::errcode::kUnrecognized, "Method not allowed for this endpoint"));
    return;
  }
  Instrument("unmatched", method_label, std::move(respond))(
      MatrixErrorResponse(404, matrix::errcode::kUnrecognized, "Unrecognized request"));
}

}  // namespace periscope::gateway
