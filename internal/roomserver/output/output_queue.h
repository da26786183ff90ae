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
class NewRoomEvent;
}  // namespace v1
struct CurrentStateChange;

// A NewRoomEvent lists at most this many state changes; past it, and for a state given wholesale
// (`reset`, a federated join), it says state_reset and consumers read the state themselves.
inline constexpr size_t kMaxListedStateChanges = 1000;

// Fills the event's state change: adds and removes, or state_reset.
void SetStateChange(v1::NewRoomEvent& event, const CurrentStateChange& change, bool reset);

// The message's Nats-Msg-Id (dedup id) is "<room id>/<room_sequence>".
absl::Status QueueOutput(RoomWriteTxn& txn, v1::OutputEvent& output);

}  // namespace periscope::roomserver
