#include "absl/time/clock.h"
#include "internal/roomserver/api/event_lookup.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::roomserver {
namespace {

class GrpcEventLookup final : public EventLookup {
 public:
  GrpcEventLookup(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
      : stub_(v1::RoomserverService::NewStub(std::move(channel))), timeout_(timeout) {}

  absl::StatusOr<std::vector<LookedUpEvent>> EventsById(
      const std::vector<std::string>& event_ids) override {
    v1::QueryEventsByIdRequest request;
    for (const std::string& id : event_ids) request.add_event_ids(id);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    v1::QueryEventsByIdResponse response;
    grpc::Status status = stub_->QueryEventsById(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    std::vector<LookedUpEvent> out;
    for (int i = 0; i < response.events_json_size(); ++i) {
      out.push_back(
          LookedUpEvent{response.event_ids(i), response.room_ids(i), response.events_json(i)});
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> StateAfter(const std::string& room_id,
                                                      const std::string& event_id,
                                                      int64_t state_group) override {
    v1::QueryStateAtEventRequest request;
    request.set_room_id(room_id);
    request.set_event_id(event_id);
    request.set_after(true);
    request.set_state_group(state_group);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    v1::QueryStateAtEventResponse response;
    grpc::Status status = stub_->QueryStateAtEvent(&ctx, request, &response);
    if (!status.ok()) return grpcutil::FromGrpcStatus(status, ctx);
    return std::vector<std::string>(response.state_event_ids().begin(),
                                    response.state_event_ids().end());
  }

 private:
  std::unique_ptr<v1::RoomserverService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<EventLookup> NewGrpcEventLookup(std::shared_ptr<grpc::Channel> roomserver,
                                                absl::Duration timeout) {
  return std::make_unique<GrpcEventLookup>(std::move(roomserver), timeout);
}

}  // namespace periscope::roomserver
