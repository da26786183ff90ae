#pragma once
// Authenticates an inbound federation request (server-server spec "Request Authentication"):
// every X-Matrix Authorization header must parse, name the same origin, name us as destination
// (when it names one), and carry a signature that verifies with the origin's key, valid now,
// over the method, the exact request target, origin, destination and the JSON body.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/federationapi/keyring/keyring.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

struct InboundRequest {
  std::string method;
  std::string target;  // path and query, as received
  std::vector<std::string> authorization;
  std::string body;  // empty if none
};

struct AuthenticatedRequest {
  std::string origin;
  // The parsed body for requests that have one (PUT/POST), else null.
  matrix::Json content;
};

class RequestVerifier {
 public:
  RequestVerifier(std::string our_server_name, Keyring& keyring)
      : our_server_name_(std::move(our_server_name)), keyring_(keyring) {}

  // Errors: UNAUTHENTICATED (M_UNAUTHORIZED) for a missing, malformed or wrong signature, another
  // destination, or a key that cannot be found or has expired; INVALID_ARGUMENT (M_NOT_JSON) for
  // a body that is not a JSON object.
  absl::StatusOr<AuthenticatedRequest> Verify(const InboundRequest& request);

 private:
  std::string our_server_name_;
  Keyring& keyring_;
};

}  // namespace periscope::federationapi
