#pragma once
// Everything a component needs to make signed federation requests, built from the configuration:
// the HTTPS client (federation.tls_verify), server name resolution (federation.servers, DNS,
// well-known) and the X-Matrix signing client. One per process component that talks to others.

#include <memory>

#include "absl/status/statusor.h"
#include "pkg/clock/clock.h"
#include "pkg/config/config.h"
#include "pkg/federation/federation_client.h"
#include "pkg/federation/https_client.h"
#include "pkg/federation/https_well_known_fetcher.h"
#include "pkg/federation/server_resolver.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federation {

// federation.tls_verify: "true" (system CAs), "false" (none) or a CA bundle path.
TlsVerification ParseTlsVerify(const std::string& value);

class OutboundFederation {
 public:
  // `key` and `clock` must outlive it.
  static absl::StatusOr<std::unique_ptr<OutboundFederation>> Create(const config::Config& config,
                                                                    const matrix::SigningKey& key,
                                                                    const Clock& clock);
  FederationClient& client() { return *client_; }
  ServerResolver& resolver() { return *resolver_; }
  HttpsClient& https() { return *https_; }

 private:
  OutboundFederation() = default;
  std::unique_ptr<HttpsClient> https_;
  std::unique_ptr<SrvResolver> dns_;
  std::unique_ptr<HttpsWellKnownFetcher> well_known_;
  std::unique_ptr<ServerResolver> resolver_;
  std::unique_ptr<FederationClient> client_;
};

}  // namespace periscope::federation
