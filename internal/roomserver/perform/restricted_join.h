#pragma once
// Restricted joins (room versions 8+: join rule "restricted", and from 10 "knock_restricted"): a
// user who is not invited may join when they are joined to one of the rooms the join rule's
// `allow` names, and a user of a server in the room who may invite vouches for the join (content
// join_authorised_via_users_server, which the auth rules check, with that server's signature).
// This is the resident's part: for a join this server builds (a local user's join, or make_join's
// template for a user of another server), which of our users vouches, if one must.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "internal/roomserver/storage/room_store.h"

namespace periscope::roomserver {

// The errcodes of a resident that cannot vouch for a restricted join (spec v1.2+).
inline constexpr char kUnableToAuthoriseJoin[] = "M_UNABLE_TO_AUTHORISE_JOIN";
inline constexpr char kUnableToGrantJoin[] = "M_UNABLE_TO_GRANT_JOIN";

// The user of `our_server` to name in join_authorised_via_users_server for `user_id`'s join of
// `room_id`, or nullopt when the join needs none (the room's join rule is not restricted, or the
// user is invited or joined already). Refusals, as the spec and Synapse give them:
//  - INVALID_ARGUMENT M_UNABLE_TO_AUTHORISE_JOIN: a user of another server is joined to none of
//    the allowed rooms this server is in, and there are allowed rooms it is not in, so it cannot
//    tell (the joining server asks another);
//  - PERMISSION_DENIED M_FORBIDDEN: otherwise, when the user is joined to none of the allowed
//    rooms this server is in;
//  - INVALID_ARGUMENT M_UNABLE_TO_GRANT_JOIN: none of our users in the room may invite (the
//    joining server asks another).
// Of our users who may invite, the one with the highest level vouches (then the lowest user id),
// so that make_join and send_join agree.
absl::StatusOr<std::optional<std::string>> RestrictedJoinAuthoriser(RoomStore& store,
                                                                    absl::string_view room_id,
                                                                    absl::string_view user_id,
                                                                    absl::string_view our_server);

}  // namespace periscope::roomserver
