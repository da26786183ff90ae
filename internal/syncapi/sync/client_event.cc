#include "internal/syncapi/sync/client_event.h"

#include "pkg/matrix/client_event.h"

namespace periscope::syncapi {

bool IsOwnEcho(const SyncEvent& event, absl::string_view user_id, absl::string_view device_id) {
  return !event.txn_id.empty() && event.sender == user_id && event.device_id == device_id;
}

absl::StatusOr<matrix::Json> ClientEvent(const SyncEvent& event, absl::string_view user_id,
                                         absl::string_view device_id) {
  absl::StatusOr<matrix::Json> out =
      matrix::ClientEventFromPduJson(event.event_json, event.event_id);
  if (!out.ok()) return out.status();
  if (IsOwnEcho(event, user_id, device_id)) {
    (*out)["unsigned"]["transaction_id"] = event.txn_id;
  }
  return out;
}

absl::StatusOr<matrix::Json> StrippedStateEvent(const SyncEvent& event) {
  absl::StatusOr<matrix::Json> pdu = matrix::ParseJson(event.event_json);
  if (!pdu.ok()) return pdu.status();
  return matrix::StrippedStateFromPdu(*pdu);
}

}  // namespace periscope::syncapi
