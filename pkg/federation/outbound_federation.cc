#include "pkg/federation/outbound_federation.h"

#include "absl/strings/ascii.h"

namespace periscope::federation {

TlsVerification ParseTlsVerify(const std::string& value) {
  std::string lower = absl::AsciiStrToLower(value);
  if (lower == "true" || lower == "yes" || lower == "on") return {};
  if (lower == "false" || lower == "no" || lower == "off") {
    return {TlsVerification::Mode::kNone, ""};
  }
  return {TlsVerification::Mode::kCaFile, value};
}

absl::StatusOr<std::unique_ptr<OutboundFederation>> OutboundFederation::Create(
    const config::Config& config, const matrix::SigningKey& key, const Clock& clock) {
  std::unique_ptr<OutboundFederation> out(new OutboundFederation());
  HttpsClientOptions options;
  options.io_threads = 2;
  options.tls = ParseTlsVerify(config.federation.tls_verify);
  options.allow_private_addresses = config.federation.allow_private_addresses;
  absl::StatusOr<std::unique_ptr<HttpsClient>> https = HttpsClient::Create(options);
  if (!https.ok()) return https.status();
  out->https_ = *std::move(https);
  out->dns_ = MakeSystemSrvResolver();
  out->well_known_ = std::make_unique<HttpsWellKnownFetcher>(*out->https_);
  out->resolver_ = std::make_unique<ServerResolver>(config.federation.servers, *out->dns_,
                                                    *out->well_known_, clock);
  out->client_ = std::make_unique<FederationClient>(
      config.server_name, key, *out->resolver_, *out->https_, config.federation.request_timeout);
  return out;
}

}  // namespace periscope::federation
