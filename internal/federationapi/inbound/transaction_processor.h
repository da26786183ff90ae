#pragma once
// PUT /_matrix/federation/v1/send/{txnId}: a transaction of PDUs (and EDUs) from another server.
// The whole request fails only when the transaction itself is malformed (not an object, more
// than 50 PDUs or 100 EDUs: 400). Each PDU is then, in order: dropped silently if it names no
// room or a room unknown here (Synapse does the same); refused with an error in its entry if its
// room's ACL denies the origin, or it fails the stateless checks (pdu_checks.h); else given to
// the roomserver, which stores it as accepted, rejected (error in its entry) or soft-failed (no
// error: soft failure is a local matter). When its prev events are unknown, up to 10 of them are
// fetched from the origin with get_missing_events, checked the same way, and given first; if that
// leaves a gap, the state before the event is fetched from the origin (/state) and the event is
// placed with it (as Synapse does with /state_ids at a gap).
// Answers are recorded per (origin, txnId): a transaction sent again gets the first answer and
// stores nothing twice. One transaction per origin is processed at a time: another arriving
// meanwhile is answered 429 M_LIMIT_EXCEEDED at once (as Synapse does), never left waiting on a
// thread. A transaction's work is bounded: missing events are fetched at most once per room, at
// most kMissingEventsLimit of them, and PDUs left when kProcessingBudget has passed get an error
// entry (the sender's later events fetch them back as missing).
// PDUs of a room one of our users is joining are parked until the join is in
// (rooms_being_joined.h), and get no entry in the answer.

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/inbound/rooms_being_joined.h"
#include "internal/federationapi/keyring/keyring.h"
#include "internal/federationapi/storage/transaction_store.h"
#include "pkg/clock/clock.h"
#include "pkg/federation/federation_client.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

struct TransactionCounters {
  // Called once per PDU with its outcome: accepted, soft_failed, rejected, redacted (accepted,
  // redacted for a content hash mismatch), dropped (malformed or unsigned), denied (ACL),
  // ignored (unknown room), missing_prevs, parked (its room being joined: counted again when
  // processed). May be empty.
  std::function<void(absl::string_view outcome)> on_pdu;
};

class TransactionProcessor {
 public:
  static constexpr size_t kMaxPdus = 50;
  static constexpr size_t kMaxEdus = 100;
  static constexpr int kMissingEventsLimit = 10;
  static constexpr absl::Duration kProcessingBudget = absl::Seconds(60);
  // The origin's /state answer at a gap may be a big room's whole state.
  static constexpr absl::Duration kGapStateTimeout = absl::Seconds(30);

  // `missing_events` asks origins for missing prev events; may be null (then none are fetched).
  // `being_joined`, if given, parks the PDUs of rooms being joined.
  TransactionProcessor(Keyring& keyring, RoomInput& rooms, TransactionStore& store,
                       federation::FederationCaller* missing_events, const Clock& clock,
                       TransactionCounters counters = {}, RoomsBeingJoined* being_joined = nullptr);

  // The answer body ({"pdus": {...}}) for `origin`'s (authenticated) transaction. Errors:
  // INVALID_ARGUMENT (M_BAD_JSON / M_NOT_JSON) for a malformed transaction; UNAVAILABLE when the
  // roomserver or the database cannot be reached (nothing is recorded: the sender retries).
  absl::StatusOr<matrix::Json> Process(const std::string& origin, const std::string& txn_id,
                                       const matrix::Json& body);

  // Told of each peek of ours the origin ended (MSC2444 expired_peeks: origin, room, peek id);
  // an error other than NOT_FOUND fails the transaction, which the origin then sends again.
  using ExpiredPeekHandler = std::function<absl::Status(
      const std::string& origin, const std::string& room_id, const std::string& peek_id)>;
  void set_expired_peek_handler(ExpiredPeekHandler handler) {
    on_expired_peek_ = std::move(handler);
  }

  // PDUs parked while a join of their room was under way, processed now as if they had just
  // arrived (checked, input, missing prev events fetched), oldest first, until `stopping()`.
  // Returns those that met an outage (UNAVAILABLE, DEADLINE_EXCEEDED: the roomserver down or
  // overloaded), to be tried again: their senders were
  // answered long ago. Other failures are logged (a later event of the sender fetches the PDU
  // back as missing). ParkedPduWorker calls this.
  std::vector<RoomsBeingJoined::Parked> ProcessParked(
      const std::vector<RoomsBeingJoined::Parked>& parked, const std::function<bool()>& stopping);

 private:
  // The outcome of one PDU: its entry in the answer ({} or {"error"}), or nullopt if it gets no
  // entry (dropped silently, or parked). A parked PDU being processed is never parked again
  // (`may_park` false): a peek processes its parked PDUs while parking goes on.
  absl::StatusOr<std::optional<matrix::Json>> ProcessPdu(const std::string& origin,
                                                         const matrix::Json& pdu,
                                                         std::set<std::string>* rooms_fetched,
                                                         bool may_park = true);
  // Gives a checked event to the roomserver; returns its entry, and says whether the event could
  // not be processed yet (unknown prevs) or was soft-failed. Counts nothing: the caller counts
  // the PDUs it was sent (not ancestors it fetched).
  // With `state`, the event is placed with that state before it (has_state): across a gap.
  absl::StatusOr<matrix::Json> Input(const std::string& origin, const std::string& event_id,
                                     const matrix::Json& event, bool* not_processed,
                                     bool* soft_failed,
                                     const std::set<std::string>* state = nullptr);
  // Fetches up to kMissingEventsLimit ancestors of `event_id` from `origin` and inputs them.
  absl::Status FetchMissing(const std::string& origin, const std::string& room_id, int room_version,
                            const std::string& event_id);
  // The gap get_missing_events could not fill: the state before `event_id` is asked of `origin`
  // (GET /state?event_id=), checked and input as outliers, and the event placed with it; the
  // roomserver then resolves it with the room's other extremities, and checks it against the
  // current state like any new event. Its entry, as Input's.
  absl::StatusOr<matrix::Json> PlaceAcrossGap(const std::string& origin, const std::string& room_id,
                                              int room_version, const std::string& event_id,
                                              const matrix::Json& event, bool* not_processed,
                                              bool* soft_failed);
  std::shared_ptr<absl::Mutex> OriginLock(const std::string& origin);
  void Count(absl::string_view outcome) {
    if (counters_.on_pdu) counters_.on_pdu(outcome);
  }

  Keyring& keyring_;
  RoomInput& rooms_;
  TransactionStore& store_;
  federation::FederationCaller* missing_events_;
  const Clock& clock_;
  TransactionCounters counters_;
  RoomsBeingJoined* being_joined_;
  ExpiredPeekHandler on_expired_peek_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<absl::Mutex>> origin_locks_ ABSL_GUARDED_BY(mu_);
  absl::Time last_forget_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace periscope::federationapi
