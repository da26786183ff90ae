#pragma once
// The invitee's side of an invite over federation (server-server spec "Inviting to a room",
// PUT /_matrix/federation/v2/invite/{roomId}/{eventId}): another server's user invites one of
// ours. The invite must be an m.room.member "invite" of a user of this server, sent by a user of
// the requesting server, with the id and room in the path, in a room version we support
// (400 M_INCOMPATIBLE_ROOM_VERSION otherwise), passing the checks of a received PDU (format,
// the sender's signature, content hash); a server the room's ACL denies is refused (403). We sign
// it, the roomserver records it (an outlier when none of our users is in the room, with the
// stripped state for the invitee's /sync; refused when the room's current state refuses it), and
// the answer is the event with our signature, which the inviting server then puts in the room.

#include <string>

#include "absl/status/statusor.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/keyring/keyring.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federationapi {

class InviteHandler {
 public:
  InviteHandler(std::string our_server_name, const matrix::SigningKey& key, RoomInput& rooms,
                Keyring& keyring)
      : our_server_name_(std::move(our_server_name)), key_(key), rooms_(rooms), keyring_(keyring) {}

  // {"event": the invite, signed by us too}.
  absl::StatusOr<matrix::Json> Invite(const std::string& origin, const std::string& room_id,
                                      const std::string& event_id, const std::string& body);

  // Stripped state events passed on with an invite, at most.
  static constexpr size_t kMaxInviteRoomState = 50;

 private:
  const std::string our_server_name_;
  const matrix::SigningKey& key_;
  RoomInput& rooms_;
  Keyring& keyring_;
};

}  // namespace periscope::federationapi
