#pragma once
// The federationsender's durable state: which servers are in each room (from the membership
// events of the output stream), the per-room sequence applied (so a redelivered message changes
// nothing), and the per-destination queues of PDUs with the transaction in flight for each.
//
// Delivery: an event is queued once per destination (unique per destination and event id); a
// destination's transaction is chosen once and recorded (its txn id and its PDUs) before it is
// sent, so that after a crash between sending and recording the answer the same transaction is
// sent again under the same txn id, which the receiver answers from its record without storing
// anything twice. Its PDUs leave the queue only when a 2xx answer is recorded.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace periscope::federationsender {

struct MembershipChange {
  std::string user_id;
  std::string server_name;
  bool joined = false;  // false: the user is no longer joined (left, kicked, banned, invited...)
};

// A remote server's peek into one of our rooms (MSC2444): every event of the room accepted after
// the peek's place in the output stream is relayed to it until it ends (DELETE, eviction when not
// renewed within the interval, or the room stopping being peekable).
struct InboundPeekRecord {
  std::string room_id;
  std::string server_name;
  std::string peek_id;
  // The event at which it began (the snapshot's latest event).
  std::string latest_event_id;
  // When it began or was last renewed, and how long it lives from then (ms).
  int64_t renewed_ts = 0;
  int64_t renewal_interval_ms = 0;
};

// An ended inbound peek the peeking server is told of in its next transaction (`expired_peeks`).
struct ExpiredPeek {
  std::string room_id;
  std::string peek_id;
};

// Our peek into another server's room (MSC2444), renewed at half its interval while local
// devices peek the room.
struct OutboundPeekRecord {
  std::string room_id;
  std::string server_name;
  std::string peek_id;
  int64_t renewed_ts = 0;
  int64_t renewal_interval_ms = 0;
  // When it was recorded (kept by renewals).
  int64_t created_ts = 0;
  // A local device's new_peek of the room came through the stream since it was recorded.
  bool confirmed = false;
};

// A remote server's peek ended at this place of the room's stream (retire_inbound_peek: a DELETE
// that came before the peek was registered). Its server asked: no expired_peeks.
struct InboundPeekEnd {
  std::string server_name;
  std::string peek_id;
};

// A local device starting or ending its peek of a room (new_peek / retire_peek).
struct LocalPeekerChange {
  std::string user_id;
  std::string device_id;
  bool peeking = false;
};

// One message of the output stream, as the queue needs it: a room event, or (with
// new_inbound_peek or inbound_peek_end) a peek registered or ended at this place of the room's
// stream, or (with local_peeker) a local device's peek starting or ending.
struct RoomEventToQueue {
  std::string room_id;
  int64_t room_sequence = 0;
  std::string event_id;
  std::string event_json;
  // When the roomserver wrote it (ms since the epoch; 0 if unknown): the relay lag's start.
  int64_t committed_ts = 0;
  // Queue it for the room's other servers (false for events that came over federation: their
  // origin sends them).
  bool send = false;
  // A server it is not sent to: the one that sent it to the room through us (send_join).
  std::string not_to;
  // Membership changes the event makes to the current state.
  std::vector<MembershipChange> memberships;
  // The server of the event's sender. An event that came over federation is relayed to the
  // room's inbound peekers (its origin does not know them), but not back to this server.
  std::string origin;
  // The event makes the room unpeekable (history no longer world_readable, or encryption): the
  // room's inbound peeks end after it, and their servers are told with expired_peeks.
  bool ends_inbound_peeks = false;
  // The content of an m.room.server_acl the event puts into the state, as JSON (empty if none):
  // the inbound peeks of servers it denies end after the event, told with expired_peeks.
  std::string new_server_acl_json;
  // Set on a new_inbound_peek message (room_id and room_sequence are then the message's, the
  // event fields empty): the peek is registered, or renewed if it exists.
  std::optional<InboundPeekRecord> new_inbound_peek;
  // Set on a retire_inbound_peek message: the peek ends if it is live.
  std::optional<InboundPeekEnd> inbound_peek_end;
  std::optional<LocalPeekerChange> local_peeker;
};

struct QueuedPdu {
  std::string event_id;
  std::string event_json;
  // When the roomserver wrote it (ms since the epoch; 0 if unknown).
  int64_t committed_ts = 0;
  // Queued for the destination because it peeks the room (MSC2444), not because it is in it.
  bool to_peeker = false;
};

struct PendingTransaction {
  std::string txn_id;
  std::vector<QueuedPdu> pdus;
  // Inbound peeks of the destination's that ended (MSC2444 expired_peeks).
  std::vector<ExpiredPeek> expired_peeks;
  // More was queued for the destination than this transaction holds (when it was chosen; a
  // transaction sent again is assumed to have more): without it, a sender need not look again
  // unless told of new work.
  bool more_queued = true;
};

struct DestinationBackoff {
  int failures = 0;
  absl::Time retry_at = absl::InfinitePast();
};

// The events of one transaction stay under this, well below the 1 MiB body limit receivers such
// as Periscope's gateway apply by default.
inline constexpr int64_t kMaxTransactionBytes = 768 * 1024;

class QueueStore {
 public:
  virtual ~QueueStore() = default;

  // Applies one output-stream message in one transaction. For an event: the destinations are
  // the servers with joined members before the event and the servers peeking the room, other
  // than `our_server` and `not_to`; an event that is not ours to `send` goes only to peeking
  // servers that are not joined and not its origin. The event is queued for them, the
  // membership changes are applied, and the room's inbound peeks end if it
  // `ends_inbound_peeks` (their servers are among the destinations returned). For a
  // new_inbound_peek: the peek is registered or renewed. Returns the destinations that have new
  // work, or nullopt if the room's sequence was already at or past this message (a redelivery).
  virtual absl::StatusOr<std::optional<std::vector<std::string>>> Apply(
      const RoomEventToQueue& event, const std::string& our_server) = 0;

  // Servers in the room now (with at least one joined member), ours included.
  virtual absl::StatusOr<std::vector<std::string>> JoinedServers(const std::string& room_id) = 0;

  // The destination's transaction: the one already chosen (same txn id, same PDUs, in queue
  // order), or else up to `max_pdus` of its oldest queued PDUs, kMaxTransactionBytes of events in
  // all (at least one), under `new_txn_id`. nullopt if nothing is queued.
  virtual absl::StatusOr<std::optional<PendingTransaction>> NextTransaction(
      const std::string& destination, const std::string& new_txn_id, int max_pdus) = 0;
  // The transaction was answered 2xx: its PDUs leave the queue, and the backoff is cleared. (Not
  // waited for on disk: lost in a crash, the transaction is sent again under its id, which the
  // receiver answers from its record, and its events are ones it has.)
  virtual absl::Status CompleteTransaction(const std::string& destination,
                                           const std::string& txn_id) = 0;

  virtual absl::StatusOr<DestinationBackoff> Backoff(const std::string& destination) = 0;
  virtual absl::Status SetBackoff(const std::string& destination, DestinationBackoff backoff) = 0;

  // Destinations with queued PDUs or expired peeks to tell.
  virtual absl::StatusOr<std::vector<std::string>> DestinationsWithWork() = 0;
  // PDUs queued in all (the queue depth).
  virtual absl::StatusOr<int64_t> QueuedPdus() = 0;
  // Destinations that may not be tried before a time after `now`.
  virtual absl::StatusOr<int64_t> DestinationsInBackoff(absl::Time now) = 0;

  // Inbound peeks (MSC2444). Live peeks matching the filters (an empty filter matches all).
  virtual absl::StatusOr<std::vector<InboundPeekRecord>> InboundPeeks(
      const std::string& room_id, const std::string& server_name, const std::string& peek_id) = 0;
  // Renews a peek from `now_ms` for `interval_ms`; nullopt if there is no such peek.
  virtual absl::StatusOr<std::optional<InboundPeekRecord>> RenewInboundPeek(
      const std::string& room_id, const std::string& server_name, const std::string& peek_id,
      int64_t now_ms, int64_t interval_ms) = 0;
  // Ends a peek at its server's request (no expired_peeks); false if there was none.
  virtual absl::StatusOr<bool> DeleteInboundPeek(const std::string& room_id,
                                                 const std::string& server_name,
                                                 const std::string& peek_id) = 0;
  // Ends every peek not renewed within its interval before `now_ms` and queues expired_peeks for
  // its server; returns the server of each peek ended (a server once per peek).
  virtual absl::StatusOr<std::vector<std::string>> EvictInboundPeeks(int64_t now_ms) = 0;
  // Live inbound peeks in all (a gauge).
  virtual absl::StatusOr<int64_t> InboundPeekCount() = 0;

  // Outbound peeks: recorded or renewed (upsert; a renewal keeps created_ts), listed (every room's
  // if `room_id` is empty), deleted (false if there was none).
  virtual absl::Status PutOutboundPeek(const OutboundPeekRecord& peek) = 0;
  virtual absl::StatusOr<std::vector<OutboundPeekRecord>> OutboundPeeks(
      const std::string& room_id) = 0;
  // Renews a held peek (renewed_ts, renewal_interval_ms); false if it is no longer held.
  virtual absl::StatusOr<bool> RenewOutboundPeek(const OutboundPeekRecord& peek) = 0;
  virtual absl::StatusOr<bool> DeleteOutboundPeek(const std::string& room_id,
                                                  const std::string& server_name,
                                                  const std::string& peek_id) = 0;
  // The local devices peeking a room (user, device), as new_peek / retire_peek left them.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LocalPeekers(
      const std::string& room_id) = 0;
};

}  // namespace periscope::federationsender
