#pragma once
// Applies the roomserver output stream to syncapi's store (durable consumer "syncapi"), then wakes
// the /sync calls the new event concerns: the room's joined members and peekers, and the target of
// a member event; a peek change wakes its user. A redelivered message finds its event (or peek
// change) already applied and changes nothing. A redaction also replaces its target with the
// redacted form, so every later read serves it redacted. A failed write is retried in place, so
// syncapi's positions keep the stream's order.

#include <functional>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
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
  static absl::StatusOr<std::unique_ptr<OutputConsumer>> Start(const config::Config& config,
                                                               stream::JetStream& js,
                                                               SyncStore& store, Notifier& notifier,
                                                               PeekMetrics& metrics);
  ~OutputConsumer();

  // Handles one message (public for tests).
  stream::Outcome Handle(const stream::Message& message);

 private:
  OutputConsumer(SyncStore& store, Notifier& notifier, PeekMetrics& metrics)
      : store_(store), notifier_(notifier), metrics_(metrics) {}
  // Replaces the redaction's target (if syncapi has it, in the same room) with its redacted form.
  // The roomserver has already checked that the redaction may take effect.
  absl::Status ApplyRedaction(const matrix::Json& redaction, const SyncEvent& event,
                              absl::string_view room_version);
  // new_peek / retire_peek: records the device's peek change at a new position and wakes it.
  stream::Outcome HandlePeek(const roomserver::v1::OutputEvent& output);
  // Applies a message to the store, retrying here (each second) until it works: a nak would let
  // later messages overtake it, and syncapi's positions must follow the stream's order. Fails
  // only when the consumer is stopping (the message is then redelivered after a restart).
  absl::StatusOr<std::optional<int64_t>> RetryInPlace(
      absl::string_view what, const std::function<absl::StatusOr<std::optional<int64_t>>()>& apply);

  SyncStore& store_;
  Notifier& notifier_;
  PeekMetrics& metrics_;
  absl::Notification stopping_;
  std::unique_ptr<stream::PullConsumer> consumer_;
};

}  // namespace periscope::syncapi
