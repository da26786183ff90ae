#include "internal/roomserver/output/output_queue.h"

#include "internal/roomserver/api/output_stream.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

absl::Status QueueOutput(RoomWriteTxn& txn, v1::OutputEvent& output, absl::string_view msg_id) {
  PERISCOPE_ASSIGN_OR_RETURN(int64_t sequence, txn.NextOutputSequence());
  output.set_room_sequence(sequence);
  return txn.EnqueueOutput(msg_id, OutputSubjectSuffix(output.room_id()),
                           EncodeOutputPayload(output));
}

}  // namespace periscope::roomserver
