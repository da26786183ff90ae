#pragma once
// NATS JetStream: stream and consumer declaration, deduplicated publishing, and a durable pull
// consumer with explicit ack / nak-with-delay / term.
//
// The connection reconnects by itself forever (a NATS restart needs no process restart);
// publishes during an outage fail with UNAVAILABLE/DEADLINE_EXCEEDED and are the caller's to
// retry (the roomserver's outbox does). Consumers keep fetching through the outage and resume.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "pkg/stream/publisher.h"

// libnats types, kept out of this header's includers (the reserved names are libnats's own).
// NOLINTBEGIN(bugprone-reserved-identifier)
typedef struct __natsConnection natsConnection;
typedef struct __jsCtx jsCtx;
typedef struct __natsSubscription natsSubscription;
// NOLINTEND(bugprone-reserved-identifier)

namespace prometheus {
class Registry;
}

namespace periscope::stream {

struct StreamSpec {
  std::string name;
  std::vector<std::string> subjects;
  // How long the server deduplicates Nats-Msg-Id values.
  absl::Duration duplicate_window = absl::Minutes(2);
  // Zero keeps messages forever (limits retention).
  absl::Duration max_age = absl::ZeroDuration();
  // Zero: no byte limit. Past it the oldest messages are dropped.
  int64_t max_bytes = 0;
  int replicas = 1;
};

struct ConsumerSpec {
  std::string stream;
  // The durable name ([A-Za-z0-9_-]; no dots).
  std::string durable;
  // Empty: every subject of the stream.
  std::string filter_subject;
  // Unacknowledged messages in flight at most (bounds memory and redelivery storms).
  int max_ack_pending = 1000;
  // Redelivery after this long without an ack.
  absl::Duration ack_wait = absl::Seconds(30);
  // -1: unlimited deliveries (poison messages are Term'ed by the handler instead).
  int max_deliver = -1;
};

struct JetStreamOptions {
  std::string url;
  // Shown in NATS monitoring (connz).
  std::string client_name = "periscope";
  // How long Connect keeps trying a server that is not up yet.
  absl::Duration connect_timeout = absl::Seconds(10);
  prometheus::Registry* registry = nullptr;
};

class JetStream final : public Publisher {
 public:
  static absl::StatusOr<std::unique_ptr<JetStream>> Connect(JetStreamOptions options);
  ~JetStream() override;

  // Creates the stream, or updates it to `spec` if it exists.
  absl::Status DeclareStream(const StreamSpec& spec);

  // The stream's current limits as the server has them (name, max_age, max_bytes, replicas).
  absl::StatusOr<StreamSpec> DescribeStream(absl::string_view name);

  // Creates the durable consumer if absent (an existing one keeps its position).
  absl::Status DeclareConsumer(const ConsumerSpec& spec);

  // Publishes and waits for the server's ack. `msg_id` (Nats-Msg-Id) makes a retry harmless.
  absl::StatusOr<PublishAck> Publish(absl::string_view subject, absl::string_view payload,
                                     absl::string_view msg_id,
                                     absl::Duration timeout = absl::Seconds(5)) override;

  // Every message in flight at once (async publishes), acks gathered. While the connection is
  // down the rest fail at once rather than wait in the library's reconnect buffer. Calls are
  // serialised.
  std::vector<absl::StatusOr<PublishAck>> PublishAll(
      absl::Span<const OutgoingMessage> messages,
      absl::Duration timeout = absl::Seconds(5)) override;

  // Whether the connection is currently up.
  bool Connected() const;

  // Core NATS (not JetStream): fire-and-forget messages to whoever listens now, for signals
  // that need no persistence (e.g. "this token was revoked" between gateways).
  absl::Status PublishCore(absl::string_view subject, absl::string_view payload);

  // A core NATS subscription; the handler runs on a libnats thread. Unsubscribes on destruction.
  class CoreSubscription {
   public:
    ~CoreSubscription();
    struct State;

   private:
    friend class JetStream;
    std::unique_ptr<State> state_;
  };
  absl::StatusOr<std::unique_ptr<CoreSubscription>> SubscribeCore(
      absl::string_view subject, std::function<void(absl::string_view payload)> handler);

  jsCtx* context() { return js_; }
  const JetStreamOptions& options() const { return options_; }

 private:
  struct Metrics;
  // The acks of the PublishAll call in progress, gathered by the library's callback.
  struct AsyncAcks;
  explicit JetStream(JetStreamOptions options);

  JetStreamOptions options_;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
  // A second context on the same connection whose async publishes report to async_acks_.
  jsCtx* async_js_ = nullptr;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<AsyncAcks> async_acks_;
  absl::Mutex publish_all_mu_;
};

// What a handler decided about one message.
struct Outcome {
  enum class Kind { kAck, kNak, kTerm };
  Kind kind = Kind::kAck;
  // For kNak: redeliver after this long (zero: at once).
  absl::Duration nak_delay = absl::ZeroDuration();
  // For kTerm: why the message is parked (logged).
  std::string reason;

  static Outcome Ack() { return {}; }
  static Outcome Nak(absl::Duration delay) { return {Kind::kNak, delay, ""}; }
  static Outcome Term(std::string why) {
    return {Kind::kTerm, absl::ZeroDuration(), std::move(why)};
  }
};

struct Message {
  absl::string_view subject;
  absl::string_view data;
  // Nats-Msg-Id, if the publisher set one.
  absl::string_view msg_id;
  uint64_t stream_sequence = 0;
  // 1 on first delivery; more on redelivery.
  uint64_t num_delivered = 0;
  // Messages still waiting after this one (consumer lag).
  uint64_t num_pending = 0;
};

using Handler = std::function<Outcome(const Message&)>;

struct PullConsumerOptions {
  ConsumerSpec spec;
  // Messages per fetch.
  int batch = 64;
  // How long one fetch waits for messages.
  absl::Duration fetch_wait = absl::Milliseconds(500);
};

// A durable pull consumer on its own thread. The handler runs on that thread only, one message
// at a time in stream order: a single-consumer invariant that handlers may rely on. After a Nak
// the rest of the fetched batch is given back unhandled, so no message overtakes a nak'ed one.
class PullConsumer {
 public:
  static absl::StatusOr<std::unique_ptr<PullConsumer>> Start(JetStream& js,
                                                             PullConsumerOptions options,
                                                             Handler handler);
  ~PullConsumer();
  // Stops fetching and waits for the thread (the message in hand is finished first).
  void Stop();

 private:
  struct Metrics;
  PullConsumer(JetStream& js, PullConsumerOptions options, Handler handler);
  absl::Status Subscribe();
  void Run();

  JetStream& js_;
  PullConsumerOptions options_;
  Handler handler_;
  natsSubscription* sub_ = nullptr;
  std::unique_ptr<Metrics> metrics_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace periscope::stream
