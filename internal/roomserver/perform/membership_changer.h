#pragma once
// PerformMembership: join (by room id or local alias), leave, invite, kick, ban and unban. Each
// writes one m.room.member event that pkg/matrix's auth rules must accept; a refusal is 403
// M_FORBIDDEN with the rule's reason. Through the RemoteMembership (the federationapi), where it
// is wired: a join of a room none of our users is in goes through a server that is in it
// (make_join, send_join), and so does a leave there (rejecting an invite from another server:
// make_leave, send_leave); an invite of another server's user is signed by that server first.
// Without federation, a join of an unknown room is 404 M_NOT_FOUND.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/roomserver/perform/event_writer.h"
#include "internal/roomserver/perform/out_of_band_membership.h"
#include "internal/roomserver/perform/remote_membership.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::roomserver {

class MembershipChanger {
 public:
  // `out_of_band` records a rejection no server in the room could be asked for.
  MembershipChanger(RoomStore& store, EventWriter& writer, RemoteMembership* remote = nullptr,
                    OutOfBandMembership* out_of_band = nullptr)
      : store_(store), writer_(writer), remote_(remote), out_of_band_(out_of_band) {}

  absl::StatusOr<v1::PerformMembershipResponse> Change(const v1::PerformMembershipRequest& request);

 private:
  // The servers through which `user_id`'s join or leave of `room_id` must go, or nullopt when
  // this server can write it itself (one of our users is in the room, or no one else to ask).
  // An unknown room gives the request's servers for a join (PerformJoin adds the room id's), and
  // nullopt for a leave.
  absl::StatusOr<std::optional<std::vector<std::string>>> RemoteServersFor(
      const std::string& room_id, const std::string& user_id,
      const v1::PerformMembershipRequest& request);
  // A rejection of an invite received over federation that no server in the room took: a leave
  // after the newest invite, signed by us, recorded out of band (Synapse's "locally generated"
  // rejection). Returns its id.
  absl::StatusOr<std::string> RejectLocally(const std::string& room_id, const std::string& user_id,
                                            const matrix::Json& content);
  // An invite of a user of another server: drafted and authorised here, signed by their server
  // (federationapi PerformInvite), which then inputs it into the room.
  absl::StatusOr<v1::PerformMembershipResponse> InviteRemote(const std::string& room_id,
                                                             const matrix::ProtoEvent& proto);

  RoomStore& store_;
  EventWriter& writer_;
  RemoteMembership* remote_;
  OutOfBandMembership* out_of_band_;
};

}  // namespace periscope::roomserver
