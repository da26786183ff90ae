#pragma once
// Events as clients see them (client-server spec "ClientEvent"): the federation-only keys
// (auth_events, prev_events, depth, hashes, signatures, origin, ...) left out, event_id added.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::matrix {

// The client form of `pdu` (an event in the federation format) with id `event_id`.
Json ClientEventFromPdu(const Json& pdu, absl::string_view event_id);

// Parses a stored PDU and returns its client form.
absl::StatusOr<Json> ClientEventFromPduJson(absl::string_view pdu_json, absl::string_view event_id);

// Only type, state_key, sender and content (invite_state's "stripped state").
Json StrippedStateFromPdu(const Json& pdu);

}  // namespace periscope::matrix
