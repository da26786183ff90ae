#pragma once
// Read-your-writes for client reads of a room (/messages, /context, /event, /state, /members):
// a read first learns from the roomserver how far the room's output stream has been committed,
// and waits (bounded) until syncapi has applied that much. So a client that was answered 200 for
// a write (a join, a message, a state change) sees it in its next read, through any gateway.
// On timeout or if the roomserver cannot be asked, the read goes on with what syncapi has: a
// read is never refused for this, only possibly stale (counted).

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "internal/syncapi/consumer/applied_sequences.h"

namespace prometheus {
class Registry;
}

namespace periscope::syncapi {

// Where the writer of the stream is: the room's latest committed room_sequence.
class RoomSequenceSource {
 public:
  virtual ~RoomSequenceSource() = default;
  virtual absl::StatusOr<int64_t> LatestSequence(const std::string& room_id) = 0;
};

class ReadFence {
 public:
  // `source` may be null (no roomserver to ask, as in some tests): reads do not wait.
  ReadFence(RoomSequenceSource* source, AppliedSequences& applied, absl::Duration bound,
            prometheus::Registry* registry);
  ~ReadFence();

  // Waits until syncapi has applied every write to the room committed before this call, or
  // `bound` passes.
  void CatchUp(const std::string& room_id);

 private:
  struct Metrics;
  RoomSequenceSource* source_;
  AppliedSequences& applied_;
  absl::Duration bound_;
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace periscope::syncapi
