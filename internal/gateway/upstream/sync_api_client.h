#pragma once
// The gateway's view of syncapi: asynchronous calls with completion callbacks. A /sync long-poll
// holds no gateway thread while it waits.

#include <memory>

#include "internal/gateway/http/cancellation.h"
#include "internal/gateway/upstream/user_api_client.h"
#include "periscope/syncapi/v1/syncapi.pb.h"

namespace periscope::gateway {

namespace syncapi_v1 = ::periscope::syncapi::v1;

class SyncApiClient {
 public:
  virtual ~SyncApiClient() = default;
  // The call's deadline covers the request's own timeout_ms. Cancelling `cancellation` (may be
  // null) ends the call early: the HTTP client went away.
  virtual void Sync(const syncapi_v1::SyncRequest& request, Callback<syncapi_v1::SyncResponse> done,
                    std::shared_ptr<Cancellation> cancellation) = 0;
  virtual void QueryMessages(const syncapi_v1::QueryMessagesRequest& request,
                             Callback<syncapi_v1::QueryMessagesResponse> done) = 0;
  virtual void QueryContext(const syncapi_v1::QueryContextRequest& request,
                            Callback<syncapi_v1::QueryContextResponse> done) = 0;
  virtual void QueryRoomEvent(const syncapi_v1::QueryRoomEventRequest& request,
                              Callback<syncapi_v1::QueryRoomEventResponse> done) = 0;
  virtual void QueryRoomState(const syncapi_v1::QueryRoomStateRequest& request,
                              Callback<syncapi_v1::QueryRoomStateResponse> done) = 0;
  virtual void PutAccountData(const syncapi_v1::PutAccountDataRequest& request,
                              Callback<syncapi_v1::PutAccountDataResponse> done) = 0;
  virtual void QueryAccountData(const syncapi_v1::QueryAccountDataRequest& request,
                                Callback<syncapi_v1::QueryAccountDataResponse> done) = 0;
  virtual void PerformTag(const syncapi_v1::PerformTagRequest& request,
                          Callback<syncapi_v1::PerformTagResponse> done) = 0;
};

}  // namespace periscope::gateway
