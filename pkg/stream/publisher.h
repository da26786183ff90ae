#pragma once
// The narrow interface of a stream producer: publish one message and wait for the stream's
// acknowledgement. JetStream implements it; unit tests use a fake (pkg/stream/testing/) to
// control what is acknowledged and when, so a relay's interleavings can be tested without NATS.

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace periscope::stream {

struct PublishAck {
  uint64_t sequence = 0;
  // True if the server had already stored a message with this Nats-Msg-Id.
  bool duplicate = false;
};

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Publishes and waits for the stream's ack. `msg_id` (Nats-Msg-Id) makes a retry harmless: the
  // stream drops a second message with the same id inside its duplicate window.
  virtual absl::StatusOr<PublishAck> Publish(absl::string_view subject, absl::string_view payload,
                                             absl::string_view msg_id,
                                             absl::Duration timeout = absl::Seconds(5)) = 0;
};

}  // namespace periscope::stream
