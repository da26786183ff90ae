#include "internal/roomserver/output/output_queue.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "internal/roomserver/api/output_stream.h"
#include "internal/roomserver/state/room_dag.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

void SetStateChange(v1::NewRoomEvent& event, const CurrentStateChange& change, bool reset) {
  if (reset || change.delta.size() + change.removed_event_ids.size() > kMaxListedStateChanges) {
    event.set_state_reset(true);
    event.set_current_state_group(change.current_group);
    return;
  }
  for (const auto& [key, id] : change.delta) {
    if (id) event.add_adds_state_event_ids(*id);
  }
  for (const std::string& id : change.removed_event_ids) event.add_removes_state_event_ids(id);
}

absl::Status QueueOutput(RoomWriteTxn& txn, v1::OutputEvent& output) {
  PERISCOPE_ASSIGN_OR_RETURN(int64_t sequence, txn.NextOutputSequence());
  output.set_room_sequence(sequence);
  // Wall time, not the injected clock: it is compared with other processes' wall clocks (a lag
  // metric), never used to decide anything.
  output.set_committed_ts(absl::ToUnixMillis(absl::Now()));
  // The dedup id names the message's place in its room: unique for every message (a peek renewed
  // twice in one millisecond is two messages), the same for a retried publish of one.
  return txn.EnqueueOutput(absl::StrCat(output.room_id(), "/", sequence),
                           OutputSubjectSuffix(output.room_id()), EncodeOutputPayload(output));
}

}  // namespace periscope::roomserver
