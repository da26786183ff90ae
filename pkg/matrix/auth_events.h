#pragma once
// The state an event is authorised against, and which state that must be (server-server spec
// "Auth events selection").

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::matrix {

// (event type, state key)
using StateKey = std::pair<std::string, std::string>;

// State events keyed by (type, state_key), each with its event id; at most one per key.
class AuthEvents {
 public:
  struct Entry {
    std::string event_id;
    Json event;
  };

  // Adds a state event. Fails (INVALID_ARGUMENT) for an event without string "type" and
  // "state_key", or a second event for the same key.
  absl::Status Add(std::string event_id, Json event);
  // Adds or replaces (for building state forwards, e.g. while creating a room).
  absl::Status Put(std::string event_id, Json event);

  const Entry* Find(absl::string_view type, absl::string_view state_key) const;
  const Json* Get(absl::string_view type, absl::string_view state_key) const;
  // The "membership" of `user_id`'s member event, or "leave" if there is none.
  std::string MembershipOf(absl::string_view user_id) const;

  const std::map<StateKey, Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

 private:
  std::map<StateKey, Entry> entries_;
};

// Room version 12 names a room by its create event: the room id is the create event's id with "!"
// for "$". This is that create event id ("$" + the room id without its sigil).
std::string CreateEventIdOfRoom(absl::string_view room_id);
// The other way round: the room id a room version 12 create event names ("!" for "$").
std::string RoomIdOfCreateEvent(absl::string_view create_event_id);

// The ids an event's auth is drawn from: its auth_events and, from room version 12 (where the
// create event is implied by the room id and never listed), the room's create event. Entries that
// are not strings are skipped.
std::vector<std::string> AuthEventIdsOf(const Json& event, int room_version);

// The (type, state_key) pairs an event's auth_events must be drawn from: the create event (before
// room version 12), the power levels, the sender's membership and, for m.room.member events, the
// target's membership, the join rules (for join, invite and knock), the third-party invite named by
// the token, and the authorising user's membership of a restricted join (room versions 8+).
std::vector<StateKey> AuthEventKeysFor(const Json& event, int room_version);

// The state the auth rules read for `event`: AuthEventKeysFor plus, from room version 12, the
// create event (implied rather than listed, but still consulted).
std::vector<StateKey> AuthStateKeysFor(const Json& event, int room_version);

// Auth rule 2 over an event's own auth events: no duplicate (type, state_key), nothing the
// selection algorithm would not pick, and a create event present (absent from room version 12).
// `auth_events` are the events the event's auth_events name, in any order. PERMISSION_DENIED with
// M_FORBIDDEN names the rule.
absl::Status CheckAuthEventsSelection(const Json& event, const std::vector<Json>& auth_events,
                                      int room_version);

}  // namespace periscope::matrix
