#pragma once
// Signed server-server requests: resolves the destination's name, signs the request with
// X-Matrix (origin, destination, method, the exact target, the body), sends it over HTTPS and
// tries the next address (SRV) when one cannot be reached. An HTTP error status is an answer,
// not an error: callers read errcodes from it (peers' error bodies vary; see ErrcodeOf).

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pkg/federation/https_client.h"
#include "pkg/federation/server_resolver.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federation {

struct FederationResponse {
  int status = 0;
  // The body parsed as JSON (null if it was not JSON).
  matrix::Json body;
  std::string raw_body;
  bool ok() const { return status >= 200 && status < 300; }
  // body.errcode if it is a string, else "".
  std::string Errcode() const;
};

// What callers of other servers depend on (faked in their unit tests).
class FederationCaller {
 public:
  virtual ~FederationCaller() = default;
  // `target` is the path and query as it goes on the wire (callers percent-encode path
  // arguments). `body` is sent (and signed) for requests that have one.
  // Errors: INVALID_ARGUMENT for a bad destination; UNAVAILABLE / DEADLINE_EXCEEDED when no
  // address answered; FAILED_PRECONDITION for a destination that is ourselves. An infinite
  // `timeout` means the configured default (federation.request_timeout).
  virtual absl::StatusOr<FederationResponse> Call(
      const std::string& destination, const std::string& method, const std::string& target,
      const std::optional<matrix::Json>& body = std::nullopt,
      absl::Duration timeout = absl::InfiniteDuration()) = 0;
};

// The status a caller reports for a remote error answer (`response.ok()` false): the remote
// errcode kept, the code from the HTTP status (404 NOT_FOUND, 403 PERMISSION_DENIED, 400
// INVALID_ARGUMENT, 429 RESOURCE_EXHAUSTED, anything else UNAVAILABLE), the message naming the
// server.
absl::Status RemoteErrorStatus(const std::string& destination, const FederationResponse& response);

class FederationClient final : public FederationCaller {
 public:
  // `key` must outlive the client.
  FederationClient(std::string our_server_name, const matrix::SigningKey& key,
                   ServerResolver& resolver, HttpsClient& https,
                   absl::Duration default_timeout = absl::Seconds(30));

  absl::StatusOr<FederationResponse> Call(
      const std::string& destination, const std::string& method, const std::string& target,
      const std::optional<matrix::Json>& body = std::nullopt,
      absl::Duration timeout = absl::InfiniteDuration()) override;

  const std::string& server_name() const { return our_server_name_; }

 private:
  std::string our_server_name_;
  const matrix::SigningKey& key_;
  ServerResolver& resolver_;
  HttpsClient& https_;
  absl::Duration default_timeout_;
};

// Percent-encodes a path argument (room id, event id, user id, txn id) with no safe characters,
// as Synapse does.
std::string EncodePathArg(absl::string_view arg);

}  // namespace periscope::federation
