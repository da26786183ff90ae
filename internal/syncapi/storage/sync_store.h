#pragma once
// What syncapi keeps: its own copy of every room event it was sent (numbered by its position in
// syncapi's stream, the "s<pos>" of sync tokens), and each room's current state. Built only from
// the roomserver output stream, applied idempotently.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope::syncapi {

struct SyncEvent {
  int64_t pos = 0;
  std::string event_id;
  std::string room_id;
  std::string type;
  std::optional<std::string> state_key;
  std::string sender;
  // The event as the roomserver sent it (federation format).
  std::string event_json;
  // The sending device and its transaction id, for the sender's own echo.
  std::string device_id;
  std::string txn_id;
  // For m.room.member events.
  std::string membership;
  // The message changed the room's state through events other than its own: the roomserver
  // merged branches, and the state it reported cannot be told as this event's effect.
  bool merges_state = false;
  // The event in client form (without a transaction id), when a cache already built it; shared,
  // since one event goes to every client a wake-up storm answers.
  std::shared_ptr<const std::string> client_json;
};

struct RoomMembership {
  std::string room_id;
  std::string membership;
  // Position of the member event that set it.
  int64_t pos = 0;
};

// One account data entry of a user: global (room_id empty) or for one room.
// Account data entries (global and per room) one user may keep; a new one past it is refused with
// 400 M_TOO_LARGE, so that no user can grow syncapi's tables and caches without end.
inline constexpr int64_t kMaxAccountDataEntriesPerUser = 1000;

struct AccountDataEntry {
  std::string room_id;
  std::string type;
  // A JSON object.
  std::string content_json;
  // The position of its latest change, in the same sequence as events (so one token covers both).
  int64_t pos = 0;
};

// A device's peek into a room (MSC2753), as syncapi tracks it for /sync.
struct DevicePeek {
  std::string room_id;
  // The position at which this peek started (its first appearance in /sync).
  int64_t pos = 0;
  // When it lapses unless renewed (ms since the epoch).
  int64_t expiry_ts = 0;
  // Set once it ended: the position of the end, and why ("client", "expired", "joined",
  // "not_peekable").
  std::optional<int64_t> ended_pos;
  std::string ended_reason;
};

// A change to a room's current state that an output message carries: the key's new event, or
// none (the key left the state). Usually the message's own state event; a merge of branches in
// the roomserver can also bring back older events and take others out.
struct StateUpdate {
  std::string type;
  std::string state_key;
  std::optional<std::string> event_id;
  // For m.room.member entries that enter the state: the membership.
  std::string membership;
  // Set when the entering event was never on the output stream (the state of a room joined over
  // federation): its JSON and sender. The store keeps it as a state-only event, in no timeline.
  std::string state_only_json;
  std::string state_only_sender;
};

// The update of a state event that enters the state itself (the usual case); none for others.
inline std::vector<StateUpdate> OwnStateUpdate(const SyncEvent& event) {
  if (!event.state_key) return {};
  return {StateUpdate{event.type, *event.state_key, event.event_id, event.membership}};
}

class SyncStore {
 public:
  virtual ~SyncStore() = default;

  // Writes that come from the roomserver output stream carry the message's room_sequence
  // (roomserver/api/output_stream.h): a write whose sequence is not above the last one applied for
  // the room is a redelivery and changes nothing; 0 means unsequenced (checked by content only).
  // The check and the write are one transaction.

  // Stores an event (pos is assigned) and applies `state` to the room's current state at that
  // position, recording the change for StateAt and StateHistory. Returns the position, or nullopt
  // if the event was already stored (a redelivery: nothing changes).
  virtual absl::StatusOr<std::optional<int64_t>> ApplyEvent(const SyncEvent& event,
                                                            const std::vector<StateUpdate>& state,
                                                            int64_t room_seq) = 0;
  // The last room_sequence applied for the room (0 if none).
  virtual absl::StatusOr<int64_t> AppliedRoomSequence(absl::string_view room_id) = 0;
  // Records a message that changes nothing here as applied (false if it was stale).
  virtual absl::StatusOr<bool> AdvanceRoomSequence(absl::string_view room_id, int64_t room_seq) = 0;
  // Replaces a stored event's JSON with its redacted form (the redaction algorithm's output plus
  // unsigned.redacted_because); false if the event is not stored in that room.
  virtual absl::StatusOr<bool> StoreRedacted(absl::string_view room_id, absl::string_view event_id,
                                             absl::string_view redacted_json) = 0;
  // One stored event of a room; nullopt if none.
  virtual absl::StatusOr<std::optional<SyncEvent>> EventInRoom(absl::string_view room_id,
                                                               absl::string_view event_id) = 0;
  // The newest position of an event or account data change (0 if empty).
  virtual absl::StatusOr<int64_t> MaxPosition() = 0;

  // Every room in which `user_id` has a member event, with its current membership.
  virtual absl::StatusOr<std::vector<RoomMembership>> MembershipsOf(absl::string_view user_id) = 0;
  // Users whose current membership of the room is "join".
  virtual absl::StatusOr<std::vector<std::string>> JoinedUsers(absl::string_view room_id) = 0;
  // The room's current state events, each with the position at which it entered the current
  // state (its own, or that of the message that brought it back by a merge).
  virtual absl::StatusOr<std::vector<SyncEvent>> CurrentState(absl::string_view room_id) = 0;
  // The room's state as of position `pos` (for each key, its latest change at or before it).
  virtual absl::StatusOr<std::vector<SyncEvent>> StateAt(absl::string_view room_id,
                                                         int64_t pos) = 0;
  // Every change of one piece of state (history visibility, a user's membership), oldest first:
  // the event that took the key, at the position where it did (event_id and event_json empty
  // where the key left the state).
  virtual absl::StatusOr<std::vector<SyncEvent>> StateHistory(absl::string_view room_id,
                                                              absl::string_view type,
                                                              absl::string_view state_key) = 0;
  // The newest `limit` events of the room with from < pos <= to, oldest first; `limited` is set
  // if older ones in that range were left out.
  virtual absl::StatusOr<std::vector<SyncEvent>> RecentEvents(absl::string_view room_id,
                                                              int64_t from, int64_t to, int limit,
                                                              bool* limited) = 0;
  // A page of the room's timeline: backwards, events with pos <= from, newest first; forwards,
  // events with pos > from, oldest first; at most `limit`, and never past `to` (0: no bound).
  virtual absl::StatusOr<std::vector<SyncEvent>> EventsPage(absl::string_view room_id, int64_t from,
                                                            int64_t to, bool backwards,
                                                            int limit) = 0;
  // The user's membership of the room and its position ("" if none).
  virtual absl::StatusOr<RoomMembership> MembershipIn(absl::string_view room_id,
                                                      absl::string_view user_id) = 0;
  // Rooms with events in (from, to] in which `user_id` has a member event.
  virtual absl::StatusOr<std::vector<std::string>> ActiveRoomsOf(absl::string_view user_id,
                                                                 int64_t from, int64_t to) = 0;

  // Stores (replaces) an account data entry and returns its new position.
  virtual absl::StatusOr<int64_t> PutAccountData(absl::string_view user_id,
                                                 absl::string_view room_id, absl::string_view type,
                                                 absl::string_view content_json) = 0;
  // Read-modify-write of one entry under a row lock: `modify` gets the current content (nullopt if
  // none) and returns the new content; an error from it aborts with nothing written.
  using AccountDataModifier =
      std::function<absl::StatusOr<std::string>(const std::optional<std::string>& current)>;
  virtual absl::StatusOr<int64_t> ModifyAccountData(absl::string_view user_id,
                                                    absl::string_view room_id,
                                                    absl::string_view type,
                                                    const AccountDataModifier& modify) = 0;
  // One entry's content; nullopt if none.
  virtual absl::StatusOr<std::optional<std::string>> AccountData(absl::string_view user_id,
                                                                 absl::string_view room_id,
                                                                 absl::string_view type) = 0;
  // Starts a device's peek at a new position, or renews a live one (a later expiry; no new
  // position). Returns the new position, or nullopt for a renewal or a redelivery.
  virtual absl::StatusOr<std::optional<int64_t>> StartPeek(absl::string_view room_id,
                                                           absl::string_view user_id,
                                                           absl::string_view device_id,
                                                           int64_t expiry_ts, int64_t room_seq) = 0;
  // Ends a live peek at a new position; nullopt if there was none (a redelivery).
  virtual absl::StatusOr<std::optional<int64_t>> EndPeek(absl::string_view room_id,
                                                         absl::string_view user_id,
                                                         absl::string_view device_id,
                                                         absl::string_view reason,
                                                         int64_t room_seq) = 0;
  // The device's peeks, live and ended (the latest of each room).
  virtual absl::StatusOr<std::vector<DevicePeek>> PeeksOf(absl::string_view user_id,
                                                          absl::string_view device_id) = 0;
  // Users with a live peek into the room.
  virtual absl::StatusOr<std::vector<std::string>> PeekingUsers(absl::string_view room_id) = 0;
  // Pushes the expiry of the device's live peeks to at least `expiry_ts`.
  virtual absl::Status RenewPeeks(absl::string_view user_id, absl::string_view device_id,
                                  int64_t expiry_ts) = 0;
  // How many peeks are live.
  virtual absl::StatusOr<int64_t> LivePeekCount() = 0;
  // Live peeks whose expiry is before `now_ts`, as (room, user, device) in a DevicePeek-like
  // triple: room_id, user and device.
  virtual absl::StatusOr<std::vector<std::array<std::string, 3>>> LapsedPeeks(int64_t now_ts) = 0;

  // The user's entries (global and per room) changed in (from, to], oldest change first.
  virtual absl::StatusOr<std::vector<AccountDataEntry>> AccountDataChanges(
      absl::string_view user_id, int64_t from, int64_t to) = 0;
};

}  // namespace periscope::syncapi
