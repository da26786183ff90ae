#pragma once
// A room's state as another server sent it (send_join's answer when we join; /state at the event
// that follows a gap in the DAG we could not fill with get_missing_events), taken into the
// roomserver: every event goes through the checks of a received PDU (those that fail are left
// out, as Synapse leaves them out, and the roomserver then refuses what needed them; room-level
// state that cannot be verified stops everything, since it would leave a wrong state), the create
// event must name the room's version, and the events are input as outliers, auth events first,
// in batches. The caller then inputs the event that follows with this state (has_state).

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/keyring/keyring.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

// Events go to the roomserver in batches of this many (a gRPC message stays small).
inline constexpr size_t kStateInputBatch = 100;

// The ids of `state`'s events that passed the checks (all of `state` and `chain` are input).
// `server` is who sent them (for errors and logs); with `create_room` the roomserver creates the
// room with `room_version` if it does not know it. UNAVAILABLE when the answer cannot be used.
absl::StatusOr<std::set<std::string>> InputSentState(const matrix::Json& state,
                                                     const matrix::Json& chain,
                                                     const std::string& room_id, int room_version,
                                                     const std::string& server, bool create_room,
                                                     Keyring& keyring, RoomInput& rooms);

// `events` ordered so that each comes after those of its auth events that are among them (ties,
// and cycles, by depth then id): the order in which the roomserver can check them.
std::vector<matrix::Json> AuthOrder(std::vector<matrix::Json> events, int room_version);

}  // namespace periscope::federationapi
