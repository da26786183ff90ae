#pragma once
// The gateway's view of the federationapi (asynchronous, gRPC-free; see user_api_client.h).

#include "internal/gateway/upstream/user_api_client.h"
#include "periscope/federationapi/v1/federationapi.pb.h"

namespace periscope::gateway {

namespace federationapi_v1 = ::periscope::federationapi::v1;

class FederationApiClient {
 public:
  virtual ~FederationApiClient() = default;
  virtual void GetServerKeys(const federationapi_v1::GetServerKeysRequest& request,
                             Callback<federationapi_v1::GetServerKeysResponse> done) = 0;
};

}  // namespace periscope::gateway
