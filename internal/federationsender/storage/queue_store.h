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

// One message of the output stream, as the queue needs it.
struct RoomEventToQueue {
  std::string room_id;
  int64_t room_sequence = 0;
  std::string event_id;
  std::string event_json;
  // Queue it for the room's other servers (false for events that came over federation: their
  // origin sends them).
  bool send = false;
  // A server it is not sent to: the one that sent it to the room through us (send_join).
  std::string not_to;
  // Membership changes the event makes to the current state.
  std::vector<MembershipChange> memberships;
};

struct QueuedPdu {
  std::string event_id;
  std::string event_json;
};

struct PendingTransaction {
  std::string txn_id;
  std::vector<QueuedPdu> pdus;
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

  // Applies one output-stream message in one transaction: the destinations are the servers
  // with joined members before the event, other than `our_server`; the event is queued for them
  // (if `send`); the membership changes are applied. Returns the destinations it was queued for,
  // or nullopt if the room's sequence was already at or past this message (a redelivery).
  virtual absl::StatusOr<std::optional<std::vector<std::string>>> Apply(
      const RoomEventToQueue& event, const std::string& our_server) = 0;

  // Servers in the room now (with at least one joined member), ours included.
  virtual absl::StatusOr<std::vector<std::string>> JoinedServers(const std::string& room_id) = 0;

  // The destination's transaction: the one already chosen (same txn id, same PDUs, in queue
  // order), or else up to `max_pdus` of its oldest queued PDUs, kMaxTransactionBytes of events in
  // all (at least one), under `new_txn_id`. nullopt if nothing is queued.
  virtual absl::StatusOr<std::optional<PendingTransaction>> NextTransaction(
      const std::string& destination, const std::string& new_txn_id, int max_pdus) = 0;
  // The transaction was answered 2xx: its PDUs leave the queue, and the backoff is cleared.
  virtual absl::Status CompleteTransaction(const std::string& destination,
                                           const std::string& txn_id) = 0;

  virtual absl::StatusOr<DestinationBackoff> Backoff(const std::string& destination) = 0;
  virtual absl::Status SetBackoff(const std::string& destination, DestinationBackoff backoff) = 0;

  // Destinations with queued PDUs.
  virtual absl::StatusOr<std::vector<std::string>> DestinationsWithWork() = 0;
  // PDUs queued in all (the queue depth).
  virtual absl::StatusOr<int64_t> QueuedPdus() = 0;
  // Destinations that may not be tried before a time after `now`.
  virtual absl::StatusOr<int64_t> DestinationsInBackoff(absl::Time now) = 0;
};

}  // namespace periscope::federationsender
