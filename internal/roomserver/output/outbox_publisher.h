#pragma once
// Sends the outbox to the output stream after commit, oldest first, each with its Nats-Msg-Id, and
// forgets what the stream acknowledged. A failed publish stops the run there (so order holds) and
// the rest waits for the next run: after the next write, or the periodic retry. At start it sends
// whatever a crash left unpublished. A message published twice (a crash between ack and delete)
// is dropped by JetStream's duplicate window, and consumers apply messages idempotently anyway.

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "internal/roomserver/storage/room_store.h"
#include "pkg/stream/jetstream.h"

namespace periscope::roomserver {

class OutboxPublisher {
 public:
  // `subject_prefix` ends before the room part, e.g. "periscope.roomserver.output".
  OutboxPublisher(RoomStore& store, stream::JetStream& js, std::string subject_prefix)
      : store_(store), js_(js), subject_prefix_(std::move(subject_prefix)) {}
  ~OutboxPublisher();

  // Publishes everything pending, in order. Safe to call from any thread; runs are serialised.
  absl::Status PublishPending();

  // Retries every `interval` in a background thread until destruction.
  void StartRetrying(absl::Duration interval);

 private:
  RoomStore& store_;
  stream::JetStream& js_;
  std::string subject_prefix_;
  absl::Mutex run_mu_;
  absl::Notification stop_;
  std::unique_ptr<std::thread> retry_thread_;
};

}  // namespace periscope::roomserver
