#pragma once
// PerformSendEvent: a message or state event from a local user, idempotent per (user, device,
// txn_id) — a retried send returns the first event id, also after a restart, because the
// transaction id commits with the event.

#include "absl/status/statusor.h"
#include "internal/roomserver/perform/event_writer.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::roomserver {

class EventSender {
 public:
  EventSender(RoomStore& store, EventWriter& writer) : store_(store), writer_(writer) {}

  // Errors: M_INVALID_PARAM (bad ids, empty type), M_NOT_JSON/M_BAD_JSON (content), M_TOO_LARGE,
  // M_FORBIDDEN (not in the room, unknown room, refused by the auth rules or redaction rules).
  absl::StatusOr<v1::PerformSendEventResponse> Send(const v1::PerformSendEventRequest& request);

 private:
  RoomStore& store_;
  EventWriter& writer_;
};

}  // namespace periscope::roomserver
