#pragma once
// Where the output stream's consumers find events it never carried: the state of a room joined
// over federation enters the roomserver as outliers, and the join's NewRoomEvent names them only
// by id (adds_state_event_ids). The roomserver's QueryEventsById over gRPC; faked in unit tests.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace periscope::roomserver {

struct LookedUpEvent {
  std::string event_id;
  std::string room_id;
  // The event's JSON (federation format).
  std::string event_json;
};

class EventLookup {
 public:
  virtual ~EventLookup() = default;
  // The events found (unknown ids left out). An error only when the source could not be asked.
  virtual absl::StatusOr<std::vector<LookedUpEvent>> EventsById(
      const std::vector<std::string>& event_ids) = 0;
  // The ids of the room's current state after a NewRoomEvent with state_reset: its
  // current_state_group when it names one (`state_group`), else (older messages) the state after
  // the event itself.
  virtual absl::StatusOr<std::vector<std::string>> StateAfter(const std::string& room_id,
                                                              const std::string& event_id,
                                                              int64_t state_group) = 0;
};

// Whether a failed lookup may work when retried (the roomserver unreachable, busy, timed out),
// as opposed to an answer that will not change (unknown event, bad request).
inline bool LookupMayRecover(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status) || absl::IsAborted(status) || absl::IsInternal(status) ||
         absl::IsUnknown(status) || absl::IsCancelled(status);
}

// Events are asked for in batches of this many: 50 events of at most 64 KiB stay far below the
// 16 MiB gRPC message limit, whatever the events.
inline constexpr size_t kLookupBatch = 50;

std::unique_ptr<EventLookup> NewGrpcEventLookup(std::shared_ptr<grpc::Channel> roomserver,
                                                absl::Duration timeout);

}  // namespace periscope::roomserver
