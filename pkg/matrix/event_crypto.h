#pragma once
// The cryptography of events (server-server spec "Signing Events", room versions 4-12):
// content hashes, the redaction algorithm, reference hashes, event ids, and event signatures.

#include <string>

#include "absl/status/statusor.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::matrix {

// A supported room version as a number (4..12). Room version 12 events are hashed, redacted and
// signed as version 11's; what changes is the room id (the create event's id) and the auth rules.
absl::StatusOr<int> ParseRoomVersion(absl::string_view version);

// The unpadded base64 SHA-256 of the event without "unsigned", "signatures" and "hashes".
absl::StatusOr<std::string> ContentHash(const Json& event);

// The event as the redaction algorithm of `room_version` leaves it (v1-v10 rules, with the
// join_rules "allow" key from v8 and "join_authorised_via_users_server" from v9; v11 keeps all of
// m.room.create's content, power_levels "invite", the "signed" part of a member's
// third_party_invite and a redaction's content "redacts", and drops "origin", "membership" and
// "prev_state").
absl::StatusOr<Json> RedactEvent(const Json& event, int room_version);

// The SHA-256 of the redacted event without "signatures" and "unsigned" (raw bytes).
absl::StatusOr<std::string> ReferenceHash(const Json& event, int room_version);

// "$" + URL-safe unpadded base64 of the reference hash (room versions 4+).
absl::StatusOr<std::string> ComputeEventId(const Json& event, int room_version);

// Sets hashes.sha256 and signs the redacted event as `server_name` with `key`; returns the event
// with the signature added (the content is not redacted).
absl::StatusOr<Json> SignEvent(Json event, absl::string_view server_name, const SigningKey& key,
                               int room_version);
// Adds `server_name`'s signature to an event as it is (hashes untouched): a second server signing
// another's event (the invitee's server an invite), which must keep its id.
absl::StatusOr<Json> AddEventSignature(Json event, absl::string_view server_name,
                                       const SigningKey& key, int room_version);

// Verifies `server_name`'s signature (key `key_id`) over the redacted event.
absl::Status VerifyEventSignature(const Json& event, absl::string_view server_name,
                                  absl::string_view key_id, absl::string_view public_key,
                                  int room_version);

}  // namespace periscope::matrix
