#pragma once
// The gateway's view of the federationsender: questions for other servers (asynchronous,
// gRPC-free; see user_api_client.h).

#include "internal/gateway/upstream/user_api_client.h"
#include "periscope/federationsender/v1/federationsender.pb.h"

namespace periscope::gateway {

namespace federationsender_v1 = ::periscope::federationsender::v1;

class FederationSenderClient {
 public:
  virtual ~FederationSenderClient() = default;
  virtual void QueryRemoteProfile(
      const federationsender_v1::QueryRemoteProfileRequest& request,
      Callback<federationsender_v1::QueryRemoteProfileResponse> done) = 0;
  virtual void QueryRemoteAlias(const federationsender_v1::QueryRemoteAliasRequest& request,
                                Callback<federationsender_v1::QueryRemoteAliasResponse> done) = 0;
};

}  // namespace periscope::gateway
