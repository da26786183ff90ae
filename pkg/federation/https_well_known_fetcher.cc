#include "pkg/federation/https_well_known_fetcher.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace periscope::federation {
namespace {

constexpr int kMaxRedirects = 5;

// https://host[:port]/path -> (host, port, target); false for anything else.
bool ParseHttpsUrl(absl::string_view url, std::string* host, int* port, std::string* target) {
  if (!absl::ConsumePrefix(&url, "https://")) return false;
  size_t slash = url.find('/');
  absl::string_view authority = url.substr(0, slash);
  *target = slash == absl::string_view::npos ? "/" : std::string(url.substr(slash));
  absl::StatusOr<ParsedServerName> parsed = ParseServerName(authority);
  if (!parsed.ok()) return false;
  *host = parsed->host;
  *port = parsed->port != 0 ? parsed->port : 443;
  return true;
}

}  // namespace

WellKnownAnswer ParseWellKnownResponse(const HttpsResponse& response) {
  WellKnownAnswer answer;
  if (auto it = response.headers.find("cache-control"); it != response.headers.end()) {
    for (absl::string_view directive : absl::StrSplit(it->second, ',')) {
      directive = absl::StripAsciiWhitespace(directive);
      int64_t seconds = 0;
      if (absl::EqualsIgnoreCase(directive, "no-store")) {
        answer.max_age = absl::ZeroDuration();
      } else if (absl::ConsumePrefix(&directive, "max-age=") &&
                 absl::SimpleAtoi(directive, &seconds) && seconds >= 0) {
        answer.max_age = absl::Seconds(seconds);
      }
    }
  }
  if (response.status != 200) return answer;
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return answer;
  auto server = body.find("m.server");
  if (server != body.end() && server->is_string()) answer.server = server->get<std::string>();
  return answer;
}

absl::StatusOr<WellKnownAnswer> HttpsWellKnownFetcher::Fetch(const std::string& hostname) {
  HttpsRequest request;
  request.host = hostname;
  request.port = 443;
  request.host_header = hostname;
  request.tls_name = hostname;
  request.target = "/.well-known/matrix/server";
  request.timeout = absl::Seconds(10);
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    absl::StatusOr<HttpsResponse> response = client_.SendAndWait(request);
    if (!response.ok()) return response.status();
    if (response->body.size() > 50 * 1024) return WellKnownAnswer{};
    bool redirect = response->status >= 300 && response->status < 400;
    auto location = response->headers.find("location");
    if (!redirect || location == response->headers.end()) return ParseWellKnownResponse(*response);
    std::string host;
    int port = 443;
    std::string target;
    if (absl::StartsWith(location->second, "/")) {
      target = location->second;
    } else if (ParseHttpsUrl(location->second, &host, &port, &target)) {
      request.host = host;
      request.port = port;
      request.host_header = port == 443 ? host : absl::StrCat(host, ":", port);
      request.tls_name = host;
    } else {
      return WellKnownAnswer{};
    }
    request.target = target;
  }
  return WellKnownAnswer{};  // a redirect loop counts as no delegation
}

}  // namespace periscope::federation
