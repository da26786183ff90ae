#include "internal/syncapi/sync/client_event.h"

namespace periscope::syncapi {

absl::StatusOr<matrix::Json> ClientEvent(const SyncEvent& event, absl::string_view user_id,
                                         absl::string_view device_id) {
  absl::StatusOr<matrix::Json> pdu = matrix::ParseJson(event.event_json);
  if (!pdu.ok()) return pdu.status();
  matrix::Json out = matrix::Json::object();
  for (const char* key : {"content", "origin_server_ts", "room_id", "sender", "state_key", "type",
                          "redacts", "unsigned"}) {
    if (auto it = pdu->find(key); it != pdu->end()) out[key] = *it;
  }
  out["event_id"] = event.event_id;
  if (!event.txn_id.empty() && event.sender == user_id && event.device_id == device_id) {
    out["unsigned"]["transaction_id"] = event.txn_id;
  }
  return out;
}

absl::StatusOr<matrix::Json> StrippedStateEvent(const SyncEvent& event) {
  absl::StatusOr<matrix::Json> pdu = matrix::ParseJson(event.event_json);
  if (!pdu.ok()) return pdu.status();
  matrix::Json out = matrix::Json::object();
  for (const char* key : {"content", "sender", "state_key", "type"}) {
    if (auto it = pdu->find(key); it != pdu->end()) out[key] = *it;
  }
  return out;
}

}  // namespace periscope::syncapi
