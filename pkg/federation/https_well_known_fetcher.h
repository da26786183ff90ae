#pragma once
// /.well-known/matrix/server over HTTPS (port 443, the certificate checked for the hostname),
// following up to 5 redirects, reading at most 50 KiB, and taking the cache lifetime from
// Cache-Control (max-age, no-store).

#include "pkg/federation/https_client.h"
#include "pkg/federation/server_resolver.h"

namespace periscope::federation {

class HttpsWellKnownFetcher final : public WellKnownFetcher {
 public:
  explicit HttpsWellKnownFetcher(HttpsClient& client) : client_(client) {}
  absl::StatusOr<WellKnownAnswer> Fetch(const std::string& hostname) override;

 private:
  HttpsClient& client_;
};

// The well-known answer in a response (exposed for tests): m.server of a 200 whose body is a JSON
// object (whatever its Content-Type), and the lifetime from Cache-Control.
WellKnownAnswer ParseWellKnownResponse(const HttpsResponse& response);

}  // namespace periscope::federation
