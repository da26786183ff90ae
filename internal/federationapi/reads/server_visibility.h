#pragma once
// What another server may read of a room (the spec defines visibility for users; servers follow
// Synapse's filter_events_for_server): a server is "in the room" when one of its users is joined
// now; it may see an event when the history visibility at the event is shared or
// world_readable, or when one of its users was joined then (or invited, under "invited").

#include <string>
#include <vector>

#include "internal/federationapi/reads/room_reads.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

// `state` holds (at least) the member events and the history visibility of the room at some
// point; `server_name` is compared with each member's server.
bool ServerHasJoinedMember(const std::vector<StoredPdu>& state, const std::string& server_name);

// `state_at_event` is the state before the event. A server with no member in the room now
// (`in_room` false: one peeking it, MSC2444) sees only what was world_readable.
bool ServerMaySeeEvent(const std::vector<StoredPdu>& state_at_event, const std::string& server_name,
                       bool in_room = true);

// Whether `state`'s history visibility is world_readable.
bool WorldReadable(const std::vector<StoredPdu>& state);

}  // namespace periscope::federationapi
