#include "internal/gateway/upstream/direct_sync_api_client.h"

#include <utility>

namespace periscope::gateway {
namespace {

class DirectSyncApiClient final : public SyncApiClient {
 public:
  DirectSyncApiClient(DirectSync sync, std::unique_ptr<SyncApiClient> rest)
      : sync_(std::move(sync)), rest_(std::move(rest)) {}

  void Sync(const syncapi_v1::SyncRequest& request, Callback<syncapi_v1::SyncResponse> done,
            std::shared_ptr<Cancellation> cancellation) override {
    std::function<void()> cancel = sync_(request, std::move(done));
    if (cancellation) cancellation->OnCancel(std::move(cancel));
  }
  void QueryMessages(const syncapi_v1::QueryMessagesRequest& request,
                     Callback<syncapi_v1::QueryMessagesResponse> done) override {
    rest_->QueryMessages(request, std::move(done));
  }
  void QueryContext(const syncapi_v1::QueryContextRequest& request,
                    Callback<syncapi_v1::QueryContextResponse> done) override {
    rest_->QueryContext(request, std::move(done));
  }
  void QueryRoomEvent(const syncapi_v1::QueryRoomEventRequest& request,
                      Callback<syncapi_v1::QueryRoomEventResponse> done) override {
    rest_->QueryRoomEvent(request, std::move(done));
  }
  void QueryRoomState(const syncapi_v1::QueryRoomStateRequest& request,
                      Callback<syncapi_v1::QueryRoomStateResponse> done) override {
    rest_->QueryRoomState(request, std::move(done));
  }
  void PutAccountData(const syncapi_v1::PutAccountDataRequest& request,
                      Callback<syncapi_v1::PutAccountDataResponse> done) override {
    rest_->PutAccountData(request, std::move(done));
  }
  void QueryAccountData(const syncapi_v1::QueryAccountDataRequest& request,
                        Callback<syncapi_v1::QueryAccountDataResponse> done) override {
    rest_->QueryAccountData(request, std::move(done));
  }
  void PerformTag(const syncapi_v1::PerformTagRequest& request,
                  Callback<syncapi_v1::PerformTagResponse> done) override {
    rest_->PerformTag(request, std::move(done));
  }

 private:
  DirectSync sync_;
  std::unique_ptr<SyncApiClient> rest_;
};

}  // namespace

std::unique_ptr<SyncApiClient> NewDirectSyncApiClient(DirectSync sync,
                                                      std::unique_ptr<SyncApiClient> rest) {
  return std::make_unique<DirectSyncApiClient>(std::move(sync), std::move(rest));
}

}  // namespace periscope::gateway
