#include "absl/time/clock.h"
#include "internal/federationapi/reads/room_reads.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::federationapi {
namespace {

namespace rs = ::periscope::roomserver::v1;

class GrpcRoomReads final : public RoomReads {
 public:
  GrpcRoomReads(rs::RoomserverService::StubInterface& stub, absl::Duration timeout)
      : stub_(stub), timeout_(timeout) {}

  absl::StatusOr<std::vector<StoredPdu>> EventsById(const std::vector<std::string>& ids) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    rs::QueryEventsByIdRequest request;
    for (const std::string& id : ids) request.add_event_ids(id);
    rs::QueryEventsByIdResponse response;
    grpc::Status s = stub_.QueryEventsById(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    std::vector<StoredPdu> out;
    for (int i = 0; i < response.event_ids_size(); ++i) {
      out.push_back({response.event_ids(i), response.room_ids(i), response.events_json(i)});
    }
    return out;
  }

  absl::StatusOr<std::vector<StoredPdu>> StateAtEvent(const std::string& room_id,
                                                      const std::string& event_id,
                                                      bool after) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    rs::QueryStateAtEventRequest request;
    request.set_room_id(room_id);
    request.set_event_id(event_id);
    request.set_after(after);
    request.set_include_events(true);
    rs::QueryStateAtEventResponse response;
    grpc::Status s = stub_.QueryStateAtEvent(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    std::vector<StoredPdu> out;
    for (int i = 0; i < response.state_event_ids_size(); ++i) {
      out.push_back({response.state_event_ids(i), room_id, response.state_events_json(i)});
    }
    return out;
  }

  absl::StatusOr<std::vector<StoredPdu>> CurrentState(const std::string& room_id) override {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    rs::QueryCurrentStateRequest request;
    request.set_room_id(room_id);
    rs::QueryCurrentStateResponse response;
    grpc::Status s = stub_.QueryCurrentState(&context, request, &response);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, context);
    std::vector<StoredPdu> out;
    for (int i = 0; i < response.state_json_size(); ++i) {
      out.push_back({response.state_event_ids(i), room_id, response.state_json(i)});
    }
    return out;
  }

 private:
  rs::RoomserverService::StubInterface& stub_;
  absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<RoomReads> NewGrpcRoomReads(rs::RoomserverService::StubInterface& stub,
                                            absl::Duration timeout) {
  return std::make_unique<GrpcRoomReads>(stub, timeout);
}

}  // namespace periscope::federationapi
