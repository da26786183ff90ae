#include "pkg/matrix/client_event.h"

namespace periscope::matrix {

Json ClientEventFromPdu(const Json& pdu, absl::string_view event_id) {
  Json out = Json::object();
  if (!pdu.is_object()) return out;
  for (const char* key : {"content", "origin_server_ts", "room_id", "sender", "state_key", "type",
                          "redacts", "unsigned"}) {
    if (auto it = pdu.find(key); it != pdu.end()) out[key] = *it;
  }
  out["event_id"] = event_id;
  return out;
}

absl::StatusOr<Json> ClientEventFromPduJson(absl::string_view pdu_json,
                                            absl::string_view event_id) {
  absl::StatusOr<Json> pdu = ParseJson(pdu_json);
  if (!pdu.ok()) return pdu.status();
  return ClientEventFromPdu(*pdu, event_id);
}

Json StrippedStateFromPdu(const Json& pdu) {
  Json out = Json::object();
  if (!pdu.is_object()) return out;
  for (const char* key : {"content", "sender", "state_key", "type"}) {
    if (auto it = pdu.find(key); it != pdu.end()) out[key] = *it;
  }
  return out;
}

}  // namespace periscope::matrix
