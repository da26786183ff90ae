#pragma once
// The federationsender's reading of the roomserver output stream (durable consumer
// "federationsender"): each new room event updates which servers are in the room (its membership
// changes), and an event of ours is queued for every other server with a joined member before it
// (events that came over federation are not sent on: their origin sends them). Every event, ours
// or not, is also queued for the servers peeking the room (MSC2444), registered by the
// new_inbound_peek messages at their place in the room's stream: each peeker gets exactly the
// events after its snapshot. The queue runner is then told which destinations have work.
//
// Order and exactly-once: one message at a time in stream order; a store failure is retried in
// place (never nak'ed past); a message whose room_sequence the store has already applied (a
// redelivery, even behind newer messages) changes nothing and queues nothing.

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "internal/federationsender/storage/queue_store.h"
#include "internal/roomserver/api/event_lookup.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/config/config.h"
#include "pkg/stream/jetstream.h"

namespace periscope::federationsender {

class OutputConsumer {
 public:
  using NotifyFn = std::function<void(const std::vector<std::string>& destinations)>;

  // `lookup` (may be null) finds the member events that a merge or a federated join brought into
  // the state without the stream carrying them.
  // `peekers_changed` (may be null) is told of each room whose local peekers changed.
  static absl::StatusOr<std::unique_ptr<OutputConsumer>> Start(
      const config::Config& config, stream::JetStream& js, QueueStore& store, NotifyFn notify,
      roomserver::EventLookup* lookup = nullptr,
      std::function<void(const std::string& room_id)> peekers_changed = nullptr);
  // Not connected to a stream: Start connects one; tests call Handle directly.
  OutputConsumer(std::string our_server_name, QueueStore& store, NotifyFn notify,
                 absl::Duration retry_interval = absl::Seconds(1))
      : our_server_name_(std::move(our_server_name)),
        store_(store),
        notify_(std::move(notify)),
        retry_interval_(retry_interval) {}
  ~OutputConsumer();

  stream::Outcome Handle(const stream::Message& message);
  void set_lookup(roomserver::EventLookup* lookup) { lookup_ = lookup; }
  // Told of each room whose local peekers changed (a peek ended), after it is applied.
  void set_peekers_changed(std::function<void(const std::string& room_id)> fn) {
    peekers_changed_ = std::move(fn);
  }

  // What a new room event means for the queue (exposed for tests).
  static absl::StatusOr<RoomEventToQueue> ToQueue(const roomserver::v1::OutputEvent& output,
                                                  const std::string& our_server_name);

 private:
  // A new_inbound_peek message, as the queue needs it.
  static RoomEventToQueue InboundPeekToQueue(const roomserver::v1::OutputEvent& output);
  // Applies one message, retrying a store failure in place.
  stream::Outcome Apply(const RoomEventToQueue& queued);
  // What the state events the event brought in besides itself (a merge of branches, a join's
  // whole state) mean for the queue: membership changes, and peeks they end (a merged-in
  // visibility, encryption or server ACL), in `out`'s memberships, ends_inbound_peeks and
  // new_server_acl_json.
  absl::Status MergedState(const std::string& room_id, const roomserver::v1::NewRoomEvent& added,
                           RoomEventToQueue& out);

  const std::string our_server_name_;
  QueueStore& store_;
  NotifyFn notify_;
  const absl::Duration retry_interval_;
  roomserver::EventLookup* lookup_ = nullptr;
  std::function<void(const std::string& room_id)> peekers_changed_;
  absl::Notification stopping_;
  std::unique_ptr<stream::PullConsumer> consumer_;
};

}  // namespace periscope::federationsender
