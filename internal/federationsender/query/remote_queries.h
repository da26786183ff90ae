#pragma once
// Queries answered by other servers (server-server spec "Querying for information"): a remote
// user's profile and the room a remote alias names, each asked of the server in the id.

#include <string>

#include "absl/status/statusor.h"
#include "periscope/federationsender/v1/federationsender.pb.h"
#include "pkg/federation/federation_client.h"

namespace periscope::federationsender {

class RemoteQueries {
 public:
  RemoteQueries(std::string our_server_name, federation::FederationCaller& federation)
      : our_server_name_(std::move(our_server_name)), federation_(federation) {}

  // Errors: INVALID_ARGUMENT for a malformed id or field, or an id of ours; the remote's own
  // errors (NOT_FOUND with M_NOT_FOUND, ...) as RemoteErrorStatus maps them; UNAVAILABLE when the
  // server cannot be reached or answers nonsense.
  absl::StatusOr<v1::QueryRemoteProfileResponse> Profile(const std::string& user_id,
                                                         const std::string& field);
  absl::StatusOr<v1::QueryRemoteAliasResponse> Alias(const std::string& alias);

  // Queries are quick lookups: a server that does not answer within this is treated as down.
  static constexpr absl::Duration kTimeout = absl::Seconds(10);

 private:
  std::string our_server_name_;
  federation::FederationCaller& federation_;
};

}  // namespace periscope::federationsender
