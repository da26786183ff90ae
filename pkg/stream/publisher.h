#pragma once
// The narrow interface of a stream producer: publish one message and wait for the stream's
// acknowledgement, or several at once with their acknowledgements gathered. JetStream implements
// it; unit tests use a fake (pkg/stream/testing/) to control what is acknowledged and when, so a
// relay's interleavings can be tested without NATS.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace periscope::stream {

struct PublishAck {
  uint64_t sequence = 0;
  // True if the server had already stored a message with this Nats-Msg-Id.
  bool duplicate = false;
};

// One message of a PublishAll call (the payload is the caller's, borrowed for the call).
struct OutgoingMessage {
  std::string subject;
  absl::string_view payload;
  std::string msg_id;
};

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Publishes and waits for the stream's ack. `msg_id` (Nats-Msg-Id) makes a retry harmless: the
  // stream drops a second message with the same id inside its duplicate window.
  virtual absl::StatusOr<PublishAck> Publish(absl::string_view subject, absl::string_view payload,
                                             absl::string_view msg_id,
                                             absl::Duration timeout = absl::Seconds(5)) = 0;

  // Publishes every message, all in flight together, and waits for each one's ack: one result per
  // message, in the same order. The messages have no order among themselves (any may be stored
  // whatever became of the others), so a caller whose messages must keep an order sends at most
  // one of each ordered sequence per call. This default publishes them one after another.
  virtual std::vector<absl::StatusOr<PublishAck>> PublishAll(
      absl::Span<const OutgoingMessage> messages, absl::Duration timeout = absl::Seconds(5)) {
    std::vector<absl::StatusOr<PublishAck>> acks;
    acks.reserve(messages.size());
    for (const OutgoingMessage& m : messages) {
      acks.push_back(Publish(m.subject, m.payload, m.msg_id, timeout));
    }
    return acks;
  }
};

}  // namespace periscope::stream
