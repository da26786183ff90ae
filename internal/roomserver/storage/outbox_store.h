#pragma once
// The outbox as the relay sees it: output-stream messages written in the same transaction as the
// change they describe, read back after commit and deleted once the stream has them.
//
// Positions come from a sequence taken at INSERT, not at COMMIT: room A can take position 10,
// room B 11 and commit first. So the relay must delete exactly the positions it published, never
// "everything up to" one, or A's message would be deleted unpublished. Within one room, positions
// follow commit order (a room's writes are serialised by its write lock), which is all the order
// the stream promises.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace periscope::roomserver {

// One queued output-stream message.
struct OutboxEntry {
  int64_t position = 0;
  std::string msg_id;
  std::string subject_suffix;
  std::string payload;
};

struct OutboxDepth {
  int64_t messages = 0;
  // 0 when the outbox is empty.
  double oldest_seconds = 0;
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;
  // The oldest committed, unpublished messages, in position order, but for those of the subjects
  // in `skip`.
  virtual absl::StatusOr<std::vector<OutboxEntry>> PendingOutput(
      const std::vector<std::string>& skip, int limit) = 0;
  // Forgets exactly these published messages.
  virtual absl::Status MarkOutputPublished(const std::vector<int64_t>& positions) = 0;
  // Committed messages waiting to be published, and how long the oldest has waited (gauges).
  virtual absl::StatusOr<OutboxDepth> Depth() = 0;
};

}  // namespace periscope::roomserver
