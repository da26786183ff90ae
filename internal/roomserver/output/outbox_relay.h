#pragma once
// The one place where the roomserver's output reaches the stream. After each commit that queued
// messages (RoomStore's output listener) and every second, it sends the outbox oldest first, each
// with its Nats-Msg-Id, and deletes exactly the messages the stream acknowledged. A failed publish
// stops the run there, so a room's order holds; the rest goes on the next run. At start it sends
// whatever a crash left. A message published twice (a crash between the ack and the delete) is
// dropped by JetStream's duplicate window, and consumers ignore it by its room_sequence anyway.

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "internal/roomserver/storage/outbox_store.h"
#include "pkg/stream/publisher.h"

namespace periscope::roomserver {

class OutboxRelay {
 public:
  // `subject_prefix` ends before the room part, e.g. "periscope.roomserver.output".
  OutboxRelay(OutboxStore& store, stream::Publisher& publisher, std::string subject_prefix)
      : store_(store), publisher_(publisher), subject_prefix_(std::move(subject_prefix)) {}
  ~OutboxRelay();

  // Publishes everything pending, in order. Safe to call from any thread; runs are serialised.
  absl::Status PublishPending();

  // Retries every `interval` in a background thread until destruction.
  void StartRetrying(absl::Duration interval);

 private:
  OutboxStore& store_;
  stream::Publisher& publisher_;
  std::string subject_prefix_;
  absl::Mutex run_mu_;
  absl::Notification stop_;
  std::unique_ptr<std::thread> retry_thread_;
};

}  // namespace periscope::roomserver
