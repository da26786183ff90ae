#pragma once
// The stateless checks on a PDU received from another server (server-server spec "Checks
// performed on receipt of a PDU", 1-3), before the roomserver runs the stateful ones (4-6):
//  1. well formed for its room version (else dropped: not stored, reported as an error);
//  2. signed by the sender's server, and for a join authorised by another server's user
//     (join_authorised_via_users_server, room versions 8+) by that server too, with keys valid
//     at its origin_server_ts (room versions 5+) (else dropped);
//  3. its content hash matches (else it goes on redacted: a redacted join still counts).
// `unsigned` is attacker-controlled and not covered by signatures: only `age` is kept.

#include <string>

#include "absl/status/statusor.h"
#include "internal/federationapi/keyring/keyring.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

struct CheckedPdu {
  std::string event_id;
  std::string room_id;
  // The event as it goes on: unsigned stripped, redacted if its content hash did not match.
  matrix::Json event;
  bool redacted = false;  // its content hash did not match
};

// The room id a PDU names: its room_id, or for a room version 12 create event (which has none)
// the id its hash gives. Empty if neither.
std::string RoomIdOfPdu(const matrix::Json& pdu);

// Errors: INVALID_ARGUMENT (M_BAD_JSON) for a malformed event, UNAUTHENTICATED (M_FORBIDDEN) for
// a missing or bad signature (both mean "dropped"); UNAVAILABLE when keys could not be read.
absl::StatusOr<CheckedPdu> CheckPdu(const matrix::Json& pdu, int room_version, Keyring& keyring);

// CheckPdu for an event a server sent as the body of its request (send_join, send_leave, invite),
// with the errors its answer gives: UNAUTHENTICATED as 403 M_FORBIDDEN, malformed as 400
// M_BAD_JSON, a key that cannot be fetched now as UNAVAILABLE; an event whose content hash does not
// match is refused (M_BAD_JSON) rather than taken redacted.
absl::StatusOr<CheckedPdu> CheckRequestPdu(const matrix::Json& pdu, int room_version,
                                           Keyring& keyring);

// Whether `server` signed `event` (a well-formed PDU) with a key valid when it was sent.
// UNAUTHENTICATED (M_FORBIDDEN) when it did not; a key that cannot be fetched now is UNAVAILABLE.
absl::Status VerifyServerSignature(const matrix::Json& event, const std::string& server,
                                   int room_version, Keyring& keyring);

}  // namespace periscope::federationapi
