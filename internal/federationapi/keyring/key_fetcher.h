#pragma once
// Where the keyring gets key documents from: the server itself, or a notary. Implemented over
// federation requests (FederationKeyFetcher); faked in the keyring's tests.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

class KeyFetcher {
 public:
  virtual ~KeyFetcher() = default;
  // GET /_matrix/key/v2/server on `server_name`: its self-signed document (unverified).
  virtual absl::StatusOr<matrix::Json> FetchDirect(const std::string& server_name) = 0;
  // POST /_matrix/key/v2/query on `notary` for `server_name`'s keys valid at least until
  // `minimum_valid_until`: the documents it returned (unverified).
  virtual absl::StatusOr<std::vector<matrix::Json>> FetchFromNotary(
      const std::string& notary, const std::string& server_name,
      absl::Time minimum_valid_until) = 0;
};

}  // namespace periscope::federationapi
