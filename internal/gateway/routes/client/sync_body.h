#pragma once
// The JSON body of a /sync answer (spec "GET /sync"), written straight from syncapi's typed
// answer. Events arrive from syncapi as JSON text it produced; they are spliced in as they are,
// not parsed and printed again: a wake-up storm sends the same event to a thousand clients.

#include <string>

#include "periscope/syncapi/v1/syncapi_service.pb.h"

namespace periscope::gateway {

std::string SyncBody(const periscope::syncapi::v1::SyncResponse& response);

}  // namespace periscope::gateway
