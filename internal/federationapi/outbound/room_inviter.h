#pragma once
// The inviting side of an invite over federation (server-server spec "Inviting to a room"), for
// a local user's /invite of a user of another server. The roomserver built the invite on the
// room's forward extremities and checked it against the room's auth rules; here it goes to the
// invitee's server (PUT /_matrix/federation/v2/invite/{roomId}/{eventId}, with the room version
// and stripped state), whose answer must be the same event (same id) carrying that server's valid
// signature. The invite, with both signatures, is then input into the room like an event received
// over federation (so its auth is checked again against the room as it is now) and reaches the
// room's servers through the federationsender.

#include <string>

#include "absl/status/statusor.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/keyring/keyring.h"
#include "periscope/federationapi/v1/federationapi.pb.h"
#include "pkg/federation/federation_client.h"

namespace periscope::federationapi {

class RoomInviter {
 public:
  RoomInviter(std::string our_server_name, federation::FederationCaller& federation,
              Keyring& keyring, RoomInput& rooms)
      : our_server_name_(std::move(our_server_name)),
        federation_(federation),
        keyring_(keyring),
        rooms_(rooms) {}

  // The invite's id once it is in the room. The invitee's server's refusal as it came (403 and
  // its message); UNAVAILABLE when it cannot be reached; PERMISSION_DENIED (M_FORBIDDEN) when
  // the room no longer allows the invite.
  absl::StatusOr<std::string> Invite(const v1::PerformInviteRequest& request);

 private:
  const std::string our_server_name_;
  federation::FederationCaller& federation_;
  Keyring& keyring_;
  RoomInput& rooms_;
};

}  // namespace periscope::federationapi
