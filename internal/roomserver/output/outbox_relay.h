#pragma once
// The one place where the roomserver's output reaches the stream: its own thread, off every
// request's path. Woken by each commit that queued messages (RoomStore's output listener: a
// request returns when its transaction commits, not when the stream has it) and every retry
// interval, it sends the outbox oldest first, each with its Nats-Msg-Id, and deletes exactly the
// messages the stream acknowledged. Rooms go together (one message of each in flight at once), a
// room's own messages one after another. A failed publish stops its room's messages for the run,
// so a room's order holds; the rest goes after the retry interval, and meanwhile sends go on (a
// NATS outage only delays delivery; the outbox's depth is a gauge). At start it sends whatever a
// crash left. A message published twice (a crash between the ack and the delete) is dropped by
// JetStream's duplicate window, and consumers ignore it by its room_sequence anyway.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
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

  // Starts the relay thread (until destruction): a run whenever woken, and every
  // `retry_interval`; after a failed run, the next waits for the interval (wakes meanwhile are
  // gathered into it). `on_depth` (may be null) gets the outbox's depth at most once an interval,
  // also between the batches of a long drain.
  void Start(absl::Duration retry_interval,
             std::function<void(const OutboxDepth& depth)> on_depth = nullptr);
  // A commit queued messages: the relay thread runs soon. Returns at once.
  void Wake();

 private:
  OutboxStore& store_;
  stream::Publisher& publisher_;
  std::string subject_prefix_;
  // Reports the depth to on_depth_, at most once a depth_interval_ (under run_mu_).
  void ReportDepth() ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_);

  absl::Mutex run_mu_;
  std::function<void(const OutboxDepth&)> on_depth_ ABSL_GUARDED_BY(run_mu_);
  absl::Duration depth_interval_ ABSL_GUARDED_BY(run_mu_);
  absl::Time depth_reported_ ABSL_GUARDED_BY(run_mu_) = absl::InfinitePast();
  absl::Mutex wake_mu_;
  bool woken_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(wake_mu_) = false;
  std::unique_ptr<std::thread> thread_;
};

}  // namespace periscope::roomserver
