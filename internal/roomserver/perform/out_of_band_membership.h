#pragma once
// A local user's membership in a room this server is not in ("out-of-band" membership, as
// Synapse calls it): an invite another server sent us (federation /v2/invite), or the leave that
// rejected such an invite through a resident server (make_leave, send_leave). The event comes
// with its signatures checked by the federationapi; the room's state is unknown here, so it is
// stored as an outlier, changes no state, and goes on the output stream only for syncapi (as an
// event from federation, which the federationsender never relays). An invite carries the stripped
// state its server sent in the event's unsigned.invite_room_state, for the invitee's /sync.
//
// When one of our users is in the room, nothing is stored: the event reaches us through the room
// like any other (the inviting server sends it to every server in the room); an invite the room's
// current state refuses (the target joined or banned, the sender without the power) is refused
// here first, so that we never sign it.

#include "absl/status/statusor.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"
#include "pkg/clock/clock.h"

namespace periscope::roomserver {

class OutOfBandMembership {
 public:
  OutOfBandMembership(std::string server_name, RoomStore& store, const Clock& clock)
      : server_name_(std::move(server_name)), store_(store), clock_(clock) {}

  // Idempotent: the same event again stores and sends nothing.
  absl::StatusOr<v1::InputOutOfBandMembershipResponse> Input(
      const v1::InputOutOfBandMembershipRequest& request);

  // At most this many stripped state events are kept with an invite.
  static constexpr size_t kMaxInviteRoomState = 50;
  // Each of them at most this big, and all together at most this.
  static constexpr size_t kMaxStrippedEventBytes = 8 * 1024;
  static constexpr size_t kMaxInviteRoomStateBytes = 64 * 1024;

 private:
  const std::string server_name_;
  RoomStore& store_;
  const Clock& clock_;
};

}  // namespace periscope::roomserver
