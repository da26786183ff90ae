#pragma once
// Applies the roomserver output stream to syncapi's store (durable consumer "syncapi"), then wakes
// the /sync calls the new event concerns: the room's joined members and peekers, and the target of
// a member event; a peek change wakes its user. A redaction also replaces its target with the
// redacted form, so every later read serves it redacted.
//
// Order and exactly-once: messages are handled one at a time in stream order; a failed write is
// retried in place (never nak'ed, which would let later messages of the room overtake it), and a
// message whose room_sequence was already applied (a redelivery after a lost ack, even one behind
// newer messages) changes nothing. A write that failed but had in fact committed is found by its
// retry, which then still wakes the waiting syncs.

#include <functional>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "internal/roomserver/api/event_lookup.h"
#include "internal/syncapi/consumer/applied_sequences.h"
#include "internal/syncapi/notifier/notifier.h"
#include "internal/syncapi/peeks/peek_metrics.h"
#include "internal/syncapi/storage/sync_store.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/config/config.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/stream/jetstream.h"

namespace periscope::syncapi {

class OutputConsumer {
 public:
  // `state_events` (may be null: events the stream never carried are then left out of the
  // state, and logged) finds the state events of rooms joined over federation.
  static absl::StatusOr<std::unique_ptr<OutputConsumer>> Start(
      const config::Config& config, stream::JetStream& js, SyncStore& store, Notifier& notifier,
      PeekMetrics& metrics, AppliedSequences& applied,
      roomserver::EventLookup* state_events = nullptr);
  ~OutputConsumer();

  // Not connected to a stream: Start connects one; tests call Handle directly.
  OutputConsumer(SyncStore& store, Notifier& notifier, PeekMetrics& metrics,
                 AppliedSequences& applied, absl::Duration retry_interval = absl::Seconds(1))
      : store_(store),
        notifier_(notifier),
        metrics_(metrics),
        applied_(applied),
        retry_interval_(retry_interval) {}

  // Where state events the stream never carried are found (null: nowhere).
  void set_state_events(roomserver::EventLookup* source) { state_events_ = source; }

  // Handles one message.
  stream::Outcome Handle(const stream::Message& message);

 private:
  // Replaces the redaction's target (if syncapi has it, in the same room) with its redacted form.
  // The roomserver has already checked that the redaction may take effect.
  // True if it redacted something. Idempotent.
  absl::StatusOr<bool> ApplyRedaction(const matrix::Json& redaction, const SyncEvent& event,
                                      absl::string_view target_id, absl::string_view room_version);
  // new_room_event: stores the event (and redacts its target) and wakes who it concerns.
  stream::Outcome HandleEvent(const roomserver::v1::OutputEvent& output);
  // The state changes a NewRoomEvent carries (its adds and removes, which may name events other
  // than `event` when the roomserver merged branches), keyed by the events syncapi stored.
  absl::StatusOr<std::vector<StateUpdate>> StateUpdatesOf(const roomserver::v1::NewRoomEvent& added,
                                                          const SyncEvent& event);
  // The updates of state events the stream never carried, found by `state_events_` and kept as
  // state-only events (ids it does not know are left out).
  absl::StatusOr<std::vector<StateUpdate>> StateOnlyUpdates(
      const std::string& room_id, const std::vector<std::string>& event_ids);
  // new_peek / retire_peek: records the device's peek change at a new position and wakes it.
  stream::Outcome HandlePeek(const roomserver::v1::OutputEvent& output);
  // Runs `apply` until it works, retrying here (every retry_interval_): a nak would let later
  // messages overtake it, and syncapi's positions must follow the stream's order. Fails only when
  // the consumer is stopping (the message is then redelivered after a restart). `failed_once`
  // tells the caller that an attempt failed, which may have committed all the same.
  template <typename T>
  absl::StatusOr<T> RetryInPlace(absl::string_view what,
                                 const std::function<absl::StatusOr<T>()>& apply,
                                 bool* failed_once = nullptr);
  // A write's position: the new one, or, when an earlier attempt failed and the retry found the
  // write done, the store's newest position (which covers it), so its waiters are still woken.
  absl::StatusOr<std::optional<int64_t>> ApplyInPlace(
      absl::string_view what, const std::function<absl::StatusOr<std::optional<int64_t>>()>& apply);

  SyncStore& store_;
  Notifier& notifier_;
  PeekMetrics& metrics_;
  AppliedSequences& applied_;
  const absl::Duration retry_interval_;
  roomserver::EventLookup* state_events_ = nullptr;
  absl::Notification stopping_;
  std::unique_ptr<stream::PullConsumer> consumer_;
};

}  // namespace periscope::syncapi
