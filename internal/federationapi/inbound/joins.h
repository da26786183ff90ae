#pragma once
// The resident side of joining a room over federation (server-server spec "Joining Rooms"):
//  - make_join: the join event a user of the requesting server would send, built by the
//    roomserver on the room's forward extremities, if the room's version is one the requester
//    supports (else 400 M_INCOMPATIBLE_ROOM_VERSION) and the auth rules allow the join now (403);
//  - send_join (v2): that event, signed by the joiner's server, is checked like any received PDU
//    (format, signatures, content hash) and must be the join of a user of the requesting server,
//    with the id in the path; the roomserver then checks it against the room's auth rules and
//    places it (403 if it refuses), and the answer is the state before it with its auth chain.
//    The federationsender relays the join to the room's other servers (send_on_behalf_of).
// make_leave and send_leave (v2, answered {}) are the same for a leave (a user of the requesting
// server leaving, or rejecting an invite, through us). All are refused (403) to a server the
// room's ACL denies, and (404) when none of our users is in the room.
// Restricted rooms (versions 8+): the roomserver's make_join template names which of our users
// vouches for the join (join_authorised_via_users_server); at send_join, a join that names one of
// our users gets our signature (which the auth rules require) before it is checked, and the answer
// carries it back.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/keyring/keyring.h"
#include "internal/federationapi/reads/federation_reads.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federationapi {

class JoinHandler {
 public:
  JoinHandler(std::string our_server_name, const matrix::SigningKey& key, RoomInput& rooms,
              Keyring& keyring, FederationReads& reads)
      : our_server_name_(std::move(our_server_name)),
        key_(key),
        rooms_(rooms),
        keyring_(keyring),
        reads_(reads) {}

  // {"event": template, "room_version"}. `supported_versions` are the ?ver= values (none means
  // room version 1 only).
  absl::StatusOr<matrix::Json> MakeJoin(const std::string& origin, const std::string& room_id,
                                        const std::string& user_id,
                                        const std::vector<std::string>& supported_versions);
  // {"origin", "state", "auth_chain", "event", "members_omitted": false}.
  absl::StatusOr<matrix::Json> SendJoin(const std::string& origin, const std::string& room_id,
                                        const std::string& event_id, const std::string& body);
  // {"event": template, "room_version"} for a leave.
  absl::StatusOr<matrix::Json> MakeLeave(const std::string& origin, const std::string& room_id,
                                         const std::string& user_id);
  // {}.
  absl::StatusOr<matrix::Json> SendLeave(const std::string& origin, const std::string& room_id,
                                         const std::string& event_id, const std::string& body);

 private:
  // make_join / make_leave; `supported_versions` only for a join.
  absl::StatusOr<matrix::Json> Make(const std::string& origin, const std::string& room_id,
                                    const std::string& user_id, const std::string& membership,
                                    const std::vector<std::string>* supported_versions);
  // send_join / send_leave.
  absl::StatusOr<matrix::Json> Send(const std::string& origin, const std::string& room_id,
                                    const std::string& event_id, const std::string& body,
                                    const std::string& membership);
  // The room's version, once the room is known and its ACL allows `origin`.
  absl::StatusOr<int> RoomFor(const std::string& origin, const std::string& room_id);

  const std::string our_server_name_;
  const matrix::SigningKey& key_;
  RoomInput& rooms_;
  Keyring& keyring_;
  FederationReads& reads_;
};

}  // namespace periscope::federationapi
