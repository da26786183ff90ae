#pragma once
// Queues one output-stream message inside a room's write transaction: numbers it with the room's
// next room_sequence and frames it for the outbox. Every producer of output (events, peeks) goes
// through here, so no message can leave the roomserver unnumbered.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "internal/roomserver/storage/room_store.h"

namespace periscope::roomserver {
namespace v1 {
class OutputEvent;
}

// The message's Nats-Msg-Id (dedup id) is "<room id>/<room_sequence>".
absl::Status QueueOutput(RoomWriteTxn& txn, v1::OutputEvent& output);

}  // namespace periscope::roomserver
