#pragma once
// The monolith's SyncApiClient: /sync goes straight to syncapi in the same process, everything
// else through `rest` (the in-process gRPC client). A parked long-poll then costs no gRPC call
// objects (client and server contexts, call arenas: most of a waiting sync's memory) and no thread
// hand-offs (most of a woken sync's CPU); bench/README.md has the figures. The mesh is unchanged.

#include <functional>
#include <memory>

#include "internal/gateway/upstream/sync_api_client.h"

namespace periscope::gateway {

// Starts a /sync; `done` runs once; the returned function cancels it.
using DirectSync = std::function<std::function<void()>(const syncapi_v1::SyncRequest&,
                                                       Callback<syncapi_v1::SyncResponse>)>;

std::unique_ptr<SyncApiClient> NewDirectSyncApiClient(DirectSync sync,
                                                      std::unique_ptr<SyncApiClient> rest);

}  // namespace periscope::gateway
