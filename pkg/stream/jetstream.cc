#include "pkg/stream/jetstream.h"

#include <nats/nats.h>

#include <chrono>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pkg/logging/logging.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace periscope::stream {
namespace {

int64_t Nanos(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }
int64_t Millis(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

absl::Status NatsError(natsStatus s, jsErrCode jerr, absl::string_view what) {
  std::string text = absl::StrCat(what, ": ", natsStatus_GetText(s));
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') {
    absl::StrAppend(&text, " (", last, ")");
  }
  if (jerr != 0) absl::StrAppend(&text, " [jetstream error ", static_cast<int>(jerr), "]");
  switch (s) {
    case NATS_TIMEOUT:
      return absl::DeadlineExceededError(text);
    case NATS_NOT_FOUND:
      return absl::NotFoundError(text);
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_NO_RESPONDERS:
    case NATS_STALE_CONNECTION:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

}  // namespace

// ---- JetStream ----

struct JetStream::Metrics {
  explicit Metrics(prometheus::Registry& r)
      : published(prometheus::BuildCounter()
                      .Name("periscope_stream_published_total")
                      .Help("JetStream publishes, by outcome (ok, duplicate, error).")
                      .Register(r)),
        publish_seconds(
            prometheus::BuildHistogram()
                .Name("periscope_stream_publish_seconds")
                .Help("Time from publish to the server's ack.")
                .Register(r)
                .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001,
                                                                 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                 0.1, 0.5, 1, 5})),
        reconnects(prometheus::BuildCounter()
                       .Name("periscope_nats_reconnects_total")
                       .Help("Times the NATS connection was re-established.")
                       .Register(r)
                       .Add({})) {}
  prometheus::Family<prometheus::Counter>& published;
  prometheus::Histogram& publish_seconds;
  prometheus::Counter& reconnects;
};

struct JetStream::AsyncAcks {
  // The library's callback for every async publish, on its own thread. The message is ours to
  // destroy.
  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<AsyncAcks*>(closure);
    {
      absl::MutexLock lock(&self->mu);
      if (auto it = self->index.find(msg); it != self->index.end()) {
        const size_t i = it->second;
        self->index.erase(it);
        if (pa != nullptr) {
          self->results[i] = PublishAck{pa->Sequence, pa->Duplicate};
          if (self->metrics != nullptr) {
            self->metrics->published.Add({{"outcome", pa->Duplicate ? "duplicate" : "ok"}})
                .Increment();
            self->metrics->publish_seconds.Observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - self->sent_at[i])
                    .count());
          }
        } else {
          const char* text =
              pae != nullptr && pae->ErrText != nullptr ? pae->ErrText : "no acknowledgement";
          self->results[i] = NatsError(pae != nullptr ? pae->Err : NATS_ERR,
                                       pae != nullptr ? pae->ErrCode : static_cast<jsErrCode>(0),
                                       absl::StrCat("publish (", text, ")"));
          if (self->metrics != nullptr) {
            self->metrics->published.Add({{"outcome", "error"}}).Increment();
          }
        }
      }
    }
    natsMsg_Destroy(msg);
  }

  Metrics* metrics = nullptr;
  absl::Mutex mu;
  // The call's messages by the natsMsg the library hands back, and what became of each.
  absl::flat_hash_map<const natsMsg*, size_t> index ABSL_GUARDED_BY(mu);
  std::vector<std::optional<absl::StatusOr<PublishAck>>> results ABSL_GUARDED_BY(mu);
  std::vector<std::chrono::steady_clock::time_point> sent_at ABSL_GUARDED_BY(mu);
};

JetStream::JetStream(JetStreamOptions options)
    : options_(std::move(options)), async_acks_(std::make_unique<AsyncAcks>()) {
  if (options_.registry != nullptr) metrics_ = std::make_unique<Metrics>(*options_.registry);
  async_acks_->metrics = metrics_.get();
}

JetStream::~JetStream() {
  if (async_js_ != nullptr) jsCtx_Destroy(async_js_);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (conn_ != nullptr) {
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
}

absl::StatusOr<std::unique_ptr<JetStream>> JetStream::Connect(JetStreamOptions options) {
  std::unique_ptr<JetStream> self(new JetStream(std::move(options)));
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return absl::InternalError("natsOptions_Create");
  natsOptions_SetURL(opts, self->options_.url.c_str());
  natsOptions_SetName(opts, self->options_.client_name.c_str());
  natsOptions_SetTimeout(opts, 2000);
  natsOptions_SetMaxReconnect(opts, -1);  // forever: NATS restarts must not need our restart
  natsOptions_SetReconnectWait(opts, 250);
  // Every publish that is not a request (the relay's async ones, one per room in flight; a pull
  // consumer's fetch request; a nak or term) is written at once rather than handed to the
  // library's flusher thread: one thread switch less on each, which is what a send's delivery is
  // made of (bench/README.md, "Where a sequential send's time goes"). Requests (acks, js_Publish)
  // were written at once already.
  natsOptions_SetSendAsap(opts, true);
  natsOptions_SetDisconnectedCB(
      opts, [](natsConnection*, void*) { logging::Warn("nats.disconnected"); }, nullptr);
  natsOptions_SetReconnectedCB(
      opts,
      [](natsConnection*, void* closure) {
        logging::Info("nats.reconnected");
        auto* metrics = static_cast<Metrics*>(closure);
        if (metrics != nullptr) metrics->reconnects.Increment();
      },
      self->metrics_.get());

  absl::Time deadline = absl::Now() + self->options_.connect_timeout;
  natsStatus s;
  while (true) {
    s = natsConnection_Connect(&self->conn_, opts);
    if (s == NATS_OK || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    return absl::UnavailableError(absl::StrCat("cannot connect to NATS at ", self->options_.url,
                                               ": ", natsStatus_GetText(s)));
  }
  if (s = natsConnection_JetStream(&self->js_, self->conn_, nullptr); s != NATS_OK) {
    return NatsError(s, static_cast<jsErrCode>(0), "JetStream context");
  }
  jsOptions async_options;
  jsOptions_Init(&async_options);
  async_options.PublishAsync.AckHandler = &AsyncAcks::OnAck;
  async_options.PublishAsync.AckHandlerClosure = self->async_acks_.get();
  if (s = natsConnection_JetStream(&self->async_js_, self->conn_, &async_options); s != NATS_OK) {
    return NatsError(s, static_cast<jsErrCode>(0), "JetStream async context");
  }
  return self;
}

bool JetStream::Connected() const {
  return conn_ != nullptr && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

absl::Status JetStream::PublishCore(absl::string_view subject, absl::string_view payload) {
  std::string subj(subject);
  natsStatus s =
      natsConnection_Publish(conn_, subj.c_str(), payload.data(), static_cast<int>(payload.size()));
  if (s != NATS_OK)
    return NatsError(s, static_cast<jsErrCode>(0), absl::StrCat("publish to ", subject));
  return absl::OkStatus();
}

struct JetStream::CoreSubscription::State {
  natsSubscription* sub = nullptr;
  std::function<void(absl::string_view)> handler;
};

JetStream::CoreSubscription::~CoreSubscription() {
  if (state_ && state_->sub != nullptr) {
    natsSubscription_Unsubscribe(state_->sub);
    natsSubscription_Destroy(state_->sub);
  }
}

absl::StatusOr<std::unique_ptr<JetStream::CoreSubscription>> JetStream::SubscribeCore(
    absl::string_view subject, std::function<void(absl::string_view)> handler) {
  auto sub = std::make_unique<CoreSubscription>();
  sub->state_ = std::make_unique<CoreSubscription::State>();
  sub->state_->handler = std::move(handler);
  std::string subj(subject);
  natsStatus s = natsConnection_Subscribe(
      &sub->state_->sub, conn_, subj.c_str(),
      [](natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
        auto* state = static_cast<CoreSubscription::State*>(closure);
        state->handler(absl::string_view(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)));
        natsMsg_Destroy(msg);
      },
      sub->state_.get());
  if (s != NATS_OK) {
    return NatsError(s, static_cast<jsErrCode>(0), absl::StrCat("subscribe to ", subject));
  }
  return sub;
}

absl::Status JetStream::DeclareStream(const StreamSpec& spec) {
  std::vector<const char*> subjects;
  for (const std::string& s : spec.subjects) subjects.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Storage = js_FileStorage;
  cfg.Retention = js_LimitsPolicy;
  cfg.Replicas = spec.replicas;
  cfg.Duplicates = Nanos(spec.duplicate_window);
  cfg.MaxAge = Nanos(spec.max_age);
  cfg.MaxBytes = spec.max_bytes > 0 ? spec.max_bytes : -1;

  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, spec.name.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    info = nullptr;
    s = js_UpdateStream(&info, js_, &cfg, nullptr, &jerr);
  } else if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    s = js_AddStream(&info, js_, &cfg, nullptr, &jerr);
  }
  if (info != nullptr) jsStreamInfo_Destroy(info);
  if (s != NATS_OK) return NatsError(s, jerr, absl::StrCat("declare stream ", spec.name));
  return absl::OkStatus();
}

absl::StatusOr<StreamSpec> JetStream::DescribeStream(absl::string_view name) {
  std::string stream(name);
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return NatsError(s, jerr, absl::StrCat("describe stream ", name));
  StreamSpec out;
  out.name = stream;
  for (int i = 0; i < info->Config->SubjectsLen; ++i)
    out.subjects.emplace_back(info->Config->Subjects[i]);
  out.max_age = absl::Nanoseconds(info->Config->MaxAge);
  out.max_bytes = info->Config->MaxBytes > 0 ? info->Config->MaxBytes : 0;
  out.duplicate_window = absl::Nanoseconds(info->Config->Duplicates);
  out.replicas = static_cast<int>(info->Config->Replicas);
  jsStreamInfo_Destroy(info);
  return out;
}

absl::Status JetStream::DeclareConsumer(const ConsumerSpec& spec) {
  jsConsumerInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s =
      js_GetConsumerInfo(&info, js_, spec.stream.c_str(), spec.durable.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(info);
    return absl::OkStatus();
  }
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = spec.durable.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.DeliverPolicy = js_DeliverAll;
  cfg.AckWait = Nanos(spec.ack_wait);
  cfg.MaxDeliver = spec.max_deliver;
  cfg.MaxAckPending = spec.max_ack_pending;
  if (!spec.filter_subject.empty()) cfg.FilterSubject = spec.filter_subject.c_str();
  info = nullptr;
  s = js_AddConsumer(&info, js_, spec.stream.c_str(), &cfg, nullptr, &jerr);
  if (info != nullptr) jsConsumerInfo_Destroy(info);
  if (s != NATS_OK) return NatsError(s, jerr, absl::StrCat("declare consumer ", spec.durable));
  return absl::OkStatus();
}

absl::StatusOr<PublishAck> JetStream::Publish(absl::string_view subject, absl::string_view payload,
                                              absl::string_view msg_id, absl::Duration timeout) {
  auto start = std::chrono::steady_clock::now();
  std::string subj(subject);
  std::string id(msg_id);
  jsPubOptions opts;
  jsPubOptions_Init(&opts);
  opts.MaxWait = Millis(timeout);
  if (!id.empty()) opts.MsgId = id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&ack, js_, subj.c_str(), payload.data(),
                            static_cast<int>(payload.size()), &opts, &jerr);
  if (s != NATS_OK) {
    if (metrics_) metrics_->published.Add({{"outcome", "error"}}).Increment();
    return NatsError(s, jerr, absl::StrCat("publish to ", subject));
  }
  PublishAck out{ack->Sequence, ack->Duplicate};
  jsPubAck_Destroy(ack);
  if (metrics_) {
    metrics_->published.Add({{"outcome", out.duplicate ? "duplicate" : "ok"}}).Increment();
    metrics_->publish_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return out;
}

std::vector<absl::StatusOr<PublishAck>> JetStream::PublishAll(
    absl::Span<const OutgoingMessage> messages, absl::Duration timeout) {
  absl::MutexLock call(&publish_all_mu_);
  AsyncAcks& acks = *async_acks_;
  {
    absl::MutexLock lock(&acks.mu);
    acks.index.clear();
    acks.results.assign(messages.size(), std::nullopt);
    acks.sent_at.assign(messages.size(), std::chrono::steady_clock::now());
  }
  // Once one cannot go, the rest are not tried: they get this.
  absl::Status stopped;
  size_t sent = 0;
  for (; sent < messages.size(); ++sent) {
    const OutgoingMessage& m = messages[sent];
    if (!Connected()) {
      stopped = absl::UnavailableError("publish: the NATS connection is down");
      break;
    }
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.payload.data(),
                                  static_cast<int>(m.payload.size()));
    if (s != NATS_OK) {
      stopped = NatsError(s, static_cast<jsErrCode>(0), absl::StrCat("publish to ", m.subject));
      break;
    }
    jsPubOptions opts;
    jsPubOptions_Init(&opts);
    opts.MaxWait = Millis(timeout);
    if (!m.msg_id.empty()) opts.MsgId = m.msg_id.c_str();
    const natsMsg* handle = msg;
    {
      absl::MutexLock lock(&acks.mu);
      acks.index[handle] = sent;
      acks.sent_at[sent] = std::chrono::steady_clock::now();
    }
    // On success the library owns the message (and sets `msg` to null); on failure it is ours.
    s = js_PublishMsgAsync(async_js_, &msg, &opts);
    if (s != NATS_OK) {
      {
        absl::MutexLock lock(&acks.mu);
        acks.index.erase(handle);
      }
      if (msg != nullptr) natsMsg_Destroy(msg);
      stopped = NatsError(s, static_cast<jsErrCode>(0), absl::StrCat("publish to ", m.subject));
      break;
    }
  }
  if (sent > 0) {
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = Millis(timeout);
    if (js_PublishAsyncComplete(async_js_, &wait) != NATS_OK) {
      // Acks that did not come in time never will for this call: take those messages back, so
      // the callback does not see them later.
      natsMsgList pending;
      if (js_PublishAsyncGetPendingList(&pending, async_js_) == NATS_OK) {
        natsMsgList_Destroy(&pending);
      }
    }
  }
  std::vector<absl::StatusOr<PublishAck>> out;
  out.reserve(messages.size());
  absl::MutexLock lock(&acks.mu);
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i >= sent) {
      out.push_back(stopped);
    } else if (acks.results[i].has_value()) {
      out.push_back(*std::move(acks.results[i]));
    } else {
      // (Possibly stored all the same, its ack late: a retry is dropped as a duplicate.)
      out.push_back(absl::DeadlineExceededError("publish: no ack from JetStream in time"));
    }
  }
  // Those never sent, and those whose ack did not come (the callback counted the rest).
  size_t unanswered = messages.size() - sent;
  for (size_t i = 0; i < sent; ++i) unanswered += acks.results[i].has_value() ? 0 : 1;
  if (metrics_ && unanswered > 0) {
    metrics_->published.Add({{"outcome", "error"}}).Increment(static_cast<double>(unanswered));
  }
  acks.index.clear();
  return out;
}

// ---- PullConsumer ----

struct PullConsumer::Metrics {
  Metrics(prometheus::Registry& r, const std::string& consumer)
      : ack(Consumed(r).Add({{"consumer", consumer}, {"outcome", "ack"}})),
        nak(Consumed(r).Add({{"consumer", consumer}, {"outcome", "nak"}})),
        term(Consumed(r).Add({{"consumer", consumer}, {"outcome", "term"}})),
        ack_failures(prometheus::BuildCounter()
                         .Name("periscope_stream_ack_failures_total")
                         .Help("Acks the server did not confirm: the message was applied but will "
                               "be redelivered, and the consumer must find it stale.")
                         .Register(r)
                         .Add({{"consumer", consumer}})),
        redeliveries(prometheus::BuildCounter()
                         .Name("periscope_stream_redeliveries_total")
                         .Help("Messages delivered more than once to a consumer.")
                         .Register(r)
                         .Add({{"consumer", consumer}})),
        pending(prometheus::BuildGauge()
                    .Name("periscope_stream_consumer_pending_messages")
                    .Help("Messages in the stream not yet delivered to the consumer (lag).")
                    .Register(r)
                    .Add({{"consumer", consumer}})),
        handle_seconds(
            prometheus::BuildHistogram()
                .Name("periscope_stream_handle_seconds")
                .Help("Time a consumer's handler took per message.")
                .Register(r)
                .Add({{"consumer", consumer}}, prometheus::Histogram::BucketBoundaries{
                                                   0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                   0.01, 0.025, 0.05, 0.1, 0.5, 1})) {}

  static prometheus::Family<prometheus::Counter>& Consumed(prometheus::Registry& r) {
    return prometheus::BuildCounter()
        .Name("periscope_stream_consumed_total")
        .Help("Messages handled by a consumer, by outcome (ack, nak, term).")
        .Register(r);
  }

  prometheus::Counter& ack;
  prometheus::Counter& nak;
  prometheus::Counter& term;
  prometheus::Counter& ack_failures;
  prometheus::Counter& redeliveries;
  prometheus::Gauge& pending;
  prometheus::Histogram& handle_seconds;
};

PullConsumer::PullConsumer(JetStream& js, PullConsumerOptions options, Handler handler)
    : js_(js), options_(std::move(options)), handler_(std::move(handler)) {
  if (js_.options().registry != nullptr) {
    metrics_ = std::make_unique<Metrics>(*js_.options().registry, options_.spec.durable);
  }
}

absl::StatusOr<std::unique_ptr<PullConsumer>> PullConsumer::Start(JetStream& js,
                                                                  PullConsumerOptions options,
                                                                  Handler handler) {
  std::unique_ptr<PullConsumer> self(new PullConsumer(js, std::move(options), std::move(handler)));
  if (absl::Status s = self->Subscribe(); !s.ok()) return s;
  self->thread_ = std::thread([raw = self.get()] { raw->Run(); });
  return self;
}

absl::Status PullConsumer::Subscribe() {
  // Create the durable consumer ourselves and bind to it: a consumer the library created would
  // be deleted by natsSubscription_Unsubscribe/Drain.
  if (absl::Status s = js_.DeclareConsumer(options_.spec); !s.ok()) return s;
  if (sub_ != nullptr) {
    natsSubscription_Destroy(sub_);
    sub_ = nullptr;
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.spec.stream.c_str();
  so.Consumer = options_.spec.durable.c_str();
  so.ManualAck = true;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const char* subject =
      options_.spec.filter_subject.empty() ? nullptr : options_.spec.filter_subject.c_str();
  natsStatus s = js_PullSubscribe(&sub_, js_.context(), subject, options_.spec.durable.c_str(),
                                  nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return NatsError(s, jerr, absl::StrCat("pull subscribe ", options_.spec.durable));
  }
  return absl::OkStatus();
}

PullConsumer::~PullConsumer() { Stop(); }

void PullConsumer::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (sub_ != nullptr) {
    natsSubscription_Destroy(sub_);  // keeps the durable consumer on the server
    sub_ = nullptr;
  }
}

void PullConsumer::Run() {
  const std::string& name = options_.spec.durable;
  absl::Time last_error_log = absl::InfinitePast();
  while (!stopping_) {
    natsMsgList list{nullptr, 0};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = sub_ == nullptr ? NATS_INVALID_SUBSCRIPTION
                                   : natsSubscription_Fetch(&list, sub_, options_.batch,
                                                            Millis(options_.fetch_wait), &jerr);
    if (s == NATS_TIMEOUT) {
      if (metrics_) metrics_->pending.Set(0);
      continue;
    }
    if (s != NATS_OK) {
      // An outage (NATS restarting) or a lost consumer. Keep trying; re-create the consumer and
      // subscription if the server no longer knows them.
      if (absl::Now() - last_error_log > absl::Seconds(5)) {
        logging::Warn("stream.fetch_failed",
                      {{"consumer", name}, {"error", NatsError(s, jerr, "fetch").message()}});
        last_error_log = absl::Now();
      }
      if (s == NATS_INVALID_SUBSCRIPTION || s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr ||
          jerr == JSStreamNotFoundErr) {
        if (absl::Status r = Subscribe(); !r.ok()) {
          logging::Warn("stream.resubscribe_failed", {{"consumer", name}, {"error", r}});
        }
      }
      absl::SleepFor(absl::Milliseconds(200));
      continue;
    }
    // Once a message is nak'ed, the rest of the batch is given back unhandled: handling a later
    // message before the nak'ed one comes again would let it overtake it (and a consumer that
    // keeps a per-room sequence would then take the redelivery for a stale duplicate).
    bool give_back_rest = false;
    for (int i = 0; i < list.Count; ++i) {
      natsMsg* msg = list.Msgs[i];
      if (give_back_rest) {
        natsMsg_NakWithDelay(msg, Millis(absl::Seconds(1)), nullptr);
        if (metrics_) metrics_->nak.Increment();
        continue;
      }
      Message m;
      m.subject = natsMsg_GetSubject(msg);
      m.data = absl::string_view(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
      const char* id = nullptr;
      if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) m.msg_id = id;
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        m.stream_sequence = meta->Sequence.Stream;
        m.num_delivered = meta->NumDelivered;
        m.num_pending = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
      }
      if (metrics_ && m.num_delivered > 1) metrics_->redeliveries.Increment();

      auto start = std::chrono::steady_clock::now();
      Outcome outcome;
      try {
        outcome = handler_(m);
      } catch (const std::exception& e) {
        // A bug, not a bad message: retry later rather than lose it.
        logging::Error("stream.handler_threw", {{"consumer", name}, {"error", e.what()}});
        outcome = Outcome::Nak(absl::Seconds(1));
      }
      if (metrics_) {
        metrics_->handle_seconds.Observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        metrics_->pending.Set(static_cast<double>(m.num_pending));
      }
      switch (outcome.kind) {
        case Outcome::Kind::kAck: {
          // AckSync: the consumer's position is stored before the next message is handled. An
          // ack the server did not confirm means a redelivery later, possibly behind newer
          // messages; consumers recognise it by the message's own order (e.g. the roomserver's
          // per-room sequence), and it is counted here so an operator sees it happen.
          jsErrCode ack_err = static_cast<jsErrCode>(0);
          if (natsStatus as = natsMsg_AckSync(msg, nullptr, &ack_err); as != NATS_OK) {
            logging::Warn("stream.ack_failed",
                          {{"consumer", name},
                           {"sequence", m.stream_sequence},
                           {"error", NatsError(as, ack_err, "ack").message()}});
            if (metrics_) metrics_->ack_failures.Increment();
          } else if (metrics_) {
            metrics_->ack.Increment();
          }
          break;
        }
        case Outcome::Kind::kNak:
          natsMsg_NakWithDelay(msg, Millis(outcome.nak_delay), nullptr);
          if (metrics_) metrics_->nak.Increment();
          give_back_rest = true;
          break;
        case Outcome::Kind::kTerm:
          logging::Error("stream.message_parked", {{"consumer", name},
                                                   {"subject", m.subject},
                                                   {"sequence", m.stream_sequence},
                                                   {"reason", outcome.reason}});
          natsMsg_Term(msg, nullptr);
          if (metrics_) metrics_->term.Increment();
          break;
      }
    }
    natsMsgList_Destroy(&list);
  }
}

}  // namespace periscope::stream
