#pragma once
// Server-server API routes (the federation listener).

#include "internal/gateway/router.h"
#include "internal/gateway/upstream/federation_api_client.h"

namespace periscope::gateway {

// GET /_matrix/key/v2/server
void AddKeyRoutes(Router& router, FederationApiClient& federationapi);

}  // namespace periscope::gateway
