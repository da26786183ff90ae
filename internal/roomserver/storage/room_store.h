#pragma once
// What the roomserver keeps: rooms, every accepted event with the state before and after it (state
// groups), each room's current state and forward extremities, client transaction ids, aliases, and
// the outbox of output-stream messages.
//
// Writes to a room happen inside RoomStore::Write, which holds the room's write lock (one writer
// per room across every roomserver process) for one database transaction. Output-stream messages
// are written to the outbox in that same transaction, so an accepted event and its message commit
// together; after the commit the store tells its output listener (the relay,
// output/outbox_relay.h), which sends them. No Perform* class publishes anything itself.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "internal/roomserver/storage/outbox_store.h"
#include "internal/roomserver/storage/state_group_store.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/event_builder.h"

namespace periscope::roomserver {

// Where an event sits in the room's DAG.
struct EventPlace {
  // The state before and after the event (state groups, see state_group_store.h). After equals
  // before for a message event and for a rejected one; an outlier has neither (both
  // kEmptyStateGroup).
  int64_t state_before = kEmptyStateGroup;
  int64_t state_after = kEmptyStateGroup;
  // Stored for reference only (an auth chain or state member): no place in the timeline.
  bool outlier = false;
  // Failed the auth rules: never an auth event, never in any state, never sent to clients.
  bool rejected = false;
  // Passed the auth rules against its own state but not against the room's current state: kept
  // out of clients' timelines and of the forward extremities, usable as a prev event.
  bool soft_failed = false;
};

// An event the auth rules accepted (or rejected, for the record), ready to store.
struct AcceptedEvent {
  std::string event_id;
  // The event's canonical JSON (the bytes that were hashed and signed).
  std::string event_json;
  std::string type;
  std::optional<std::string> state_key;
  std::string sender;
  int64_t depth = 0;
  std::vector<std::string> prev_event_ids;
  // For m.room.member events.
  std::string membership;
  EventPlace place;
};

// A local device's peek into a room (MSC2753).
struct LocalPeek {
  std::string user_id;
  std::string device_id;
  // When the peek ends unless renewed, in milliseconds since the epoch. syncapi renews peeks on
  // each /sync of the device without telling the roomserver, and retires them when they lapse;
  // this is the expiry of the last PerformPeek.
  int64_t expiry_ts = 0;
};

struct EventRecord {
  std::string event_id;
  std::string room_id;
  std::string event_json;
  bool rejected = false;
};

// A room's write transaction. Valid only inside RoomStore::Write's body. Everything a body reads
// goes through it: a second pool connection taken inside a room transaction could deadlock the
// pool under load (every connection held by a transaction waiting for another).
class RoomWriteTxn {
 public:
  virtual ~RoomWriteTxn() = default;
  virtual const std::string& room_id() const = 0;
  virtual int room_version() const = 0;
  // The current state events for `keys` (missing keys are simply absent).
  virtual absl::StatusOr<matrix::AuthEvents> State(const std::vector<matrix::StateKey>& keys) = 0;
  virtual absl::StatusOr<std::vector<matrix::PrevEvent>> ForwardExtremities() = 0;
  // A stored event of any room, by id; nullopt if unknown.
  virtual absl::StatusOr<std::optional<EventRecord>> Event(absl::string_view event_id) = 0;
  // Where a stored event of this room sits in the DAG; nullopt if unknown.
  virtual absl::StatusOr<std::optional<EventPlace>> Place(absl::string_view event_id) = 0;
  // Stores the event with its place in the DAG and its prev-event edges. A timeline event (not an
  // outlier, rejected or soft-failed) that no stored event names as a prev event becomes a forward
  // extremity, and its prev events stop being ones. The current state is SetCurrentState's.
  // An event stored as an outlier may be appended again, placed (not as an outlier); any other
  // event already stored is ALREADY_EXISTS.
  virtual absl::Status AppendEvent(const AcceptedEvent& event) = 0;
  // Records a stored event's state after (a group naming the event itself can only be stored
  // once the event is).
  virtual absl::Status SetStateAfter(absl::string_view event_id, int64_t group) = 0;
  // The room's state groups, in this transaction.
  virtual StateGroupStore& StateGroups() = 0;
  // The group of the room's current state: the resolution of its forward extremities' states.
  virtual absl::StatusOr<int64_t> CurrentStateGroup() = 0;
  // Makes `group` the current state; `change` is what differs from the current state before (the
  // rows of the current-state table to replace or remove), and `memberships` the membership of
  // each m.room.member event id in it.
  virtual absl::Status SetCurrentState(int64_t group, const StateDelta& change,
                                       const std::map<std::string, std::string>& memberships) = 0;
  // Replaces a stored event's JSON with its redacted form (an accepted redaction took effect).
  virtual absl::Status StoreRedacted(absl::string_view event_id,
                                     absl::string_view redacted_json) = 0;
  // Remembers that (user, device, txn_id) produced `event_id`.
  virtual absl::Status RecordTransaction(absl::string_view user_id, absl::string_view device_id,
                                         absl::string_view txn_id, absl::string_view event_id) = 0;
  // The room's next output-stream sequence (1, 2, 3, ...; see api/output_stream.h). Taken under
  // the room's write lock, so the room's messages are numbered in commit order.
  virtual absl::StatusOr<int64_t> NextOutputSequence() = 0;
  // Adds an output-stream message, published after commit under `msg_id` (the dedup id). Use
  // output/output_queue.h, which numbers and frames it.
  virtual absl::Status EnqueueOutput(absl::string_view msg_id, absl::string_view subject_suffix,
                                     absl::string_view payload) = 0;
  // Creates a local alias (ALREADY_EXISTS if taken).
  virtual absl::Status CreateAlias(absl::string_view alias, absl::string_view creator) = 0;
  // Lists the room in (or removes it from) the public directory.
  virtual absl::Status SetPublished(bool published) = 0;
  // Records (or renews) a local device's peek.
  virtual absl::Status PutLocalPeek(const LocalPeek& peek) = 0;
  // Ends a local device's peek; false if it had none.
  virtual absl::StatusOr<bool> RemoveLocalPeek(absl::string_view user_id,
                                               absl::string_view device_id) = 0;
  // The room's local peeks, by user and device.
  virtual absl::StatusOr<std::vector<LocalPeek>> LocalPeeks() = 0;
};

struct AliasRecord {
  std::string room_id;
  std::string creator;
};

struct MembershipRecord {
  bool room_exists = false;
  // "" if the user has no member event.
  std::string membership;
  std::string event_id;
};

class RoomStore : public OutboxStore {
 public:
  ~RoomStore() override = default;
  using WriteBody = std::function<absl::Status(RoomWriteTxn&)>;

  // Creates the room (ALREADY_EXISTS if its id is taken) and runs `body` as its first write.
  virtual absl::Status CreateRoom(absl::string_view room_id, int room_version, int64_t now_ms,
                                  const WriteBody& body) = 0;
  // Runs `body` under the room's write lock (NOT_FOUND with M_NOT_FOUND if there is no room).
  // Everything `body` wrote commits if it returns OK and rolls back otherwise.
  virtual absl::Status Write(absl::string_view room_id, const WriteBody& body) = 0;

  // The event a (user, device, txn_id) produced, if any.
  virtual absl::StatusOr<std::optional<std::string>> TransactionEventId(
      absl::string_view user_id, absl::string_view device_id, absl::string_view txn_id) = 0;

  // Called after each commit that queued output-stream messages (the relay publishes them).
  // Set once, before the first write.
  virtual void SetOutputListener(std::function<void()> listener) = 0;

  // nullopt if the room is unknown.
  virtual absl::StatusOr<std::optional<int>> RoomVersion(absl::string_view room_id) = 0;
  // The room_sequence of the room's latest committed output message (0 if none or unknown).
  virtual absl::StatusOr<int64_t> OutputSequence(absl::string_view room_id) = 0;
  // The state before (or, with `after`, after) a stored event of the room. NOT_FOUND for an
  // unknown event, FAILED_PRECONDITION for an outlier (no state is known at it).
  virtual absl::StatusOr<matrix::StateMap> StateAtEvent(absl::string_view room_id,
                                                        absl::string_view event_id, bool after) = 0;
  // The state of one of the room's state groups (an output message's current_state_group).
  // NOT_FOUND for a group of no such room.
  virtual absl::StatusOr<matrix::StateMap> StateOfGroup(absl::string_view room_id,
                                                        int64_t group) = 0;
  // The room's current state events; all of them if `keys` is empty.
  virtual absl::StatusOr<std::vector<EventRecord>> CurrentState(
      absl::string_view room_id, const std::vector<matrix::StateKey>& keys) = 0;
  virtual absl::StatusOr<std::vector<EventRecord>> EventsById(
      const std::vector<std::string>& event_ids) = 0;
  virtual absl::StatusOr<MembershipRecord> Membership(absl::string_view room_id,
                                                      absl::string_view user_id) = 0;
  // Whether a user of `server_name` is joined to the room now (false for an unknown room).
  virtual absl::StatusOr<bool> HasJoinedMemberOf(absl::string_view room_id,
                                                 absl::string_view server_name) = 0;
  // Gives the room `version` if it has no state yet (only out-of-band memberships: an invite
  // named a version the room does not have). False if it has state, which keeps its version.
  virtual absl::StatusOr<bool> ReplaceVersionOfStatelessRoom(absl::string_view room_id,
                                                             int version) = 0;
  // The invites of `user_id` into the room (those received over federation included, never one
  // the room refused), newest first, at most 20: whom to ask to join or reject through when none
  // of this server's users is in the room, and what a rejection nobody could be asked answers.
  virtual absl::StatusOr<std::vector<EventRecord>> InvitesOf(absl::string_view room_id,
                                                             absl::string_view user_id) = 0;
  // Rooms where the user's current membership is "join", sorted.
  virtual absl::StatusOr<std::vector<std::string>> JoinedRooms(absl::string_view user_id) = 0;
  // The room an alias names; nullopt if none.
  virtual absl::StatusOr<std::optional<std::string>> ResolveAlias(absl::string_view alias) = 0;
  // The alias's room and creator; nullopt if none.
  virtual absl::StatusOr<std::optional<AliasRecord>> Alias(absl::string_view alias) = 0;
  // Creates an alias (ALREADY_EXISTS if it is taken).
  virtual absl::Status SetAlias(absl::string_view alias, absl::string_view room_id,
                                absl::string_view creator) = 0;
  // Deletes an alias (NOT_FOUND if there is none).
  virtual absl::Status RemoveAlias(absl::string_view alias) = 0;
  // Lists or unlists a room in the public directory (NOT_FOUND for an unknown room).
  virtual absl::Status SetPublished(absl::string_view room_id, bool published) = 0;
  // Whether a room is listed; nullopt for an unknown room.
  virtual absl::StatusOr<std::optional<bool>> Published(absl::string_view room_id) = 0;
  // The listed rooms.
  virtual absl::StatusOr<std::vector<std::string>> PublishedRooms() = 0;
  // The room's local peeks, by user and device (empty for an unknown room).
  virtual absl::StatusOr<std::vector<LocalPeek>> LocalPeeks(absl::string_view room_id) = 0;
};

}  // namespace periscope::roomserver
