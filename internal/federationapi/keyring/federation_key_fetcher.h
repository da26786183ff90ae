#pragma once
// KeyFetcher over signed federation requests.

#include "internal/federationapi/keyring/key_fetcher.h"
#include "pkg/federation/federation_client.h"

namespace periscope::federationapi {

class FederationKeyFetcher final : public KeyFetcher {
 public:
  explicit FederationKeyFetcher(federation::FederationCaller& client) : client_(client) {}
  absl::StatusOr<matrix::Json> FetchDirect(const std::string& server_name) override;
  absl::StatusOr<std::vector<matrix::Json>> FetchFromNotary(
      const std::string& notary, const std::string& server_name,
      absl::Time minimum_valid_until) override;

 private:
  federation::FederationCaller& client_;
};

}  // namespace periscope::federationapi
