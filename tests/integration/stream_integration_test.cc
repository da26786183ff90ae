// pkg/stream against a real nats-server with JetStream (one started per test).

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "pkg/pg/pg.h"
#include "pkg/stream/jetstream.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "tests/testing/test_services.h"

namespace periscope::stream {
namespace {

const StreamSpec kStream{.name = "TEST_OUTPUT", .subjects = {"test.output.>"}};

// Collects what a consumer saw, thread-safely, and lets the test wait for a count.
class Received {
 public:
  void Add(const Message& m) {
    absl::MutexLock lock(&mu_);
    payloads_.emplace_back(m.data);
    if (m.num_delivered > 1) ++redelivered_;
  }
  bool WaitFor(size_t n, absl::Duration timeout = absl::Seconds(20)) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return payloads_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  std::vector<std::string> payloads() {
    absl::MutexLock lock(&mu_);
    return payloads_;
  }
  int redelivered() {
    absl::MutexLock lock(&mu_);
    return redelivered_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> payloads_ ABSL_GUARDED_BY(mu_);
  int redelivered_ ABSL_GUARDED_BY(mu_) = 0;
};

class StreamIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::NatsServerProcess>> nats =
        testing::NatsServerProcess::Start();
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
    registry_ = std::make_shared<prometheus::Registry>();
    absl::StatusOr<std::unique_ptr<JetStream>> js =
        JetStream::Connect({.url = nats_->url(), .registry = registry_.get()});
    ASSERT_TRUE(js.ok()) << js.status();
    js_ = *std::move(js);
    ASSERT_TRUE(js_->DeclareStream(kStream).ok());
  }

  PullConsumerOptions Options(std::string durable) {
    return {.spec = {.stream = kStream.name,
                     .durable = std::move(durable),
                     .ack_wait = absl::Seconds(2)},
            .batch = 16,
            .fetch_wait = absl::Milliseconds(200)};
  }

  std::string Scrape() { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

  std::unique_ptr<testing::NatsServerProcess> nats_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<JetStream> js_;
};

TEST_F(StreamIntegrationTest, DeclareIsIdempotent) {
  EXPECT_TRUE(js_->DeclareStream(kStream).ok());
  EXPECT_TRUE(js_->DeclareConsumer(Options("c").spec).ok());
  EXPECT_TRUE(js_->DeclareConsumer(Options("c").spec).ok());
}

TEST_F(StreamIntegrationTest, RetentionLimitsAreAppliedAndUpdated) {
  StreamSpec limited = kStream;
  limited.max_age = absl::Hours(24);
  limited.max_bytes = 1 << 20;
  ASSERT_TRUE(js_->DeclareStream(limited).ok());
  absl::StatusOr<StreamSpec> got = js_->DescribeStream(kStream.name);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->max_age, absl::Hours(24));
  EXPECT_EQ(got->max_bytes, 1 << 20);
  // A redeclaration with other limits (a new configuration) updates them in place.
  limited.max_age = absl::Hours(48);
  limited.max_bytes = 0;
  ASSERT_TRUE(js_->DeclareStream(limited).ok());
  got = js_->DescribeStream(kStream.name);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->max_age, absl::Hours(48));
  EXPECT_EQ(got->max_bytes, 0);
}

TEST_F(StreamIntegrationTest, MsgIdDeduplicatesRetriedPublish) {
  absl::StatusOr<PublishAck> first = js_->Publish("test.output.a", "x", "event-1");
  absl::StatusOr<PublishAck> retry = js_->Publish("test.output.a", "x", "event-1");
  ASSERT_TRUE(first.ok() && retry.ok());
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(first->sequence, retry->sequence);
  absl::StatusOr<PublishAck> other = js_->Publish("test.output.a", "y", "event-2");
  EXPECT_EQ(other->sequence, first->sequence + 1);
}

TEST_F(StreamIntegrationTest, PublishToUnknownSubjectFails) {
  EXPECT_FALSE(js_->Publish("nobody.listens", "x", "").ok());
}

TEST_F(StreamIntegrationTest, ConsumerGetsMessagesInOrder) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(js_->Publish("test.output.r", absl::StrCat(i), absl::StrCat("m", i)).ok());
  }
  Received got;
  auto consumer = PullConsumer::Start(*js_, Options("ordered"), [&](const Message& m) {
    got.Add(m);
    return Outcome::Ack();
  });
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_TRUE(got.WaitFor(50));
  std::vector<std::string> p = got.payloads();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(p[i], absl::StrCat(i));
  (*consumer)->Stop();
  EXPECT_NE(
      Scrape().find("periscope_stream_consumed_total{consumer=\"ordered\",outcome=\"ack\"} 50"),
      std::string::npos);
}

TEST_F(StreamIntegrationTest, DurableConsumerResumesWhereItStopped) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(js_->Publish("test.output.d", absl::StrCat(i), "").ok());
  Received first;
  {
    auto c = PullConsumer::Start(*js_, Options("durable"), [&](const Message& m) {
      first.Add(m);
      return Outcome::Ack();
    });
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(first.WaitFor(5));
  }
  for (int i = 5; i < 8; ++i) ASSERT_TRUE(js_->Publish("test.output.d", absl::StrCat(i), "").ok());
  Received second;
  auto c = PullConsumer::Start(*js_, Options("durable"), [&](const Message& m) {
    second.Add(m);
    return Outcome::Ack();
  });
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(second.WaitFor(3));
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(second.payloads(), (std::vector<std::string>{"5", "6", "7"}));
}

TEST_F(StreamIntegrationTest, NakRedeliversAndTermParks) {
  ASSERT_TRUE(js_->Publish("test.output.n", "retry-me", "").ok());
  ASSERT_TRUE(js_->Publish("test.output.n", "poison", "").ok());
  ASSERT_TRUE(js_->Publish("test.output.n", "fine", "").ok());
  Received got;
  std::atomic<int> poison_seen{0};
  auto c = PullConsumer::Start(*js_, Options("nak"), [&](const Message& m) {
    if (m.data == "poison") {
      ++poison_seen;
      return Outcome::Term("cannot parse");
    }
    if (m.data == "retry-me" && m.num_delivered == 1) {
      return Outcome::Nak(absl::Milliseconds(100));
    }
    got.Add(m);
    return Outcome::Ack();
  });
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(got.WaitFor(2));
  absl::SleepFor(absl::Milliseconds(2500));  // past ack_wait: a parked message must not return
  EXPECT_EQ(poison_seen, 1);
  // "retry-me" came again, and so did "fine": the nak gave the rest of its batch back.
  EXPECT_EQ(got.redelivered(), 2);
  std::vector<std::string> payloads = got.payloads();
  std::multiset<std::string> seen(payloads.begin(), payloads.end());
  EXPECT_EQ(seen, (std::multiset<std::string>{"fine", "retry-me"}));
  std::string scrape = Scrape();
  EXPECT_NE(scrape.find("periscope_stream_consumed_total{consumer=\"nak\",outcome=\"term\"} 1"),
            std::string::npos);
  EXPECT_NE(scrape.find("periscope_stream_redeliveries_total{consumer=\"nak\"} 3"),
            std::string::npos)
      << scrape;
}

TEST_F(StreamIntegrationTest, NoMessageOvertakesANakedOne) {
  for (const char* p : {"a", "b", "c"}) ASSERT_TRUE(js_->Publish("test.output.o", p, "").ok());
  absl::Mutex mu;
  std::vector<std::string> handled;
  auto c = PullConsumer::Start(*js_, Options("order"), [&](const Message& m) {
    absl::MutexLock lock(&mu);
    handled.emplace_back(m.data);
    if (m.data == "a" && m.num_delivered == 1) return Outcome::Nak(absl::Milliseconds(100));
    return Outcome::Ack();
  });
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 100; ++i) {
    {
      absl::MutexLock lock(&mu);
      if (handled.size() >= 4) break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(handled, (std::vector<std::string>{"a", "a", "b", "c"}));
}

TEST_F(StreamIntegrationTest, AnAckTheServerNeverConfirmedIsCounted) {
  ASSERT_TRUE(js_->Publish("test.output.k", "once", "").ok());
  std::atomic<int> deliveries{0};
  auto c = PullConsumer::Start(*js_, Options("ackfail"), [&](const Message& m) {
    if (++deliveries == 1) nats_->Stop();  // the ack that follows cannot reach the server
    return Outcome::Ack();
  });
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 100 && deliveries.load() == 0; ++i) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_EQ(deliveries.load(), 1);
  // The failed ack is counted, not ignored.
  for (int i = 0;
       i < 100 && Scrape().find("periscope_stream_ack_failures_total{consumer=\"ackfail\"} 1") ==
                      std::string::npos;
       ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_NE(Scrape().find("periscope_stream_ack_failures_total{consumer=\"ackfail\"} 1"),
            std::string::npos)
      << Scrape();
  // (The message then comes again once the server is back: RedeliveredMessageIsAppliedOnce and
  // the output consumer's tests cover what a consumer must do with it.)
  (*c)->Stop();
  ASSERT_TRUE(nats_->Restart().ok());
}

TEST_F(StreamIntegrationTest, ConsumerSurvivesNatsRestartWithoutLoss) {
  Received got;
  auto c = PullConsumer::Start(*js_, Options("restart"), [&](const Message& m) {
    got.Add(m);
    return Outcome::Ack();
  });
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(js_->Publish("test.output.x", absl::StrCat(i), absl::StrCat("x", i)).ok());
  }
  ASSERT_TRUE(got.WaitFor(20));

  ASSERT_TRUE(nats_->Restart().ok());
  // The publisher retries through the reconnect, as the roomserver outbox does.
  for (int i = 20; i < 40; ++i) {
    absl::Time deadline = absl::Now() + absl::Seconds(15);
    absl::StatusOr<PublishAck> ack;
    do {
      ack = js_->Publish("test.output.x", absl::StrCat(i), absl::StrCat("x", i),
                         absl::Milliseconds(500));
      if (!ack.ok()) absl::SleepFor(absl::Milliseconds(100));
    } while (!ack.ok() && absl::Now() < deadline);
    ASSERT_TRUE(ack.ok()) << ack.status();
  }
  ASSERT_TRUE(got.WaitFor(40)) << got.payloads().size();
  absl::SleepFor(absl::Milliseconds(300));
  std::vector<std::string> p = got.payloads();
  std::set<std::string> unique(p.begin(), p.end());
  EXPECT_EQ(unique.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(unique.contains(absl::StrCat(i))) << i;
}

// The consumer-side idempotence pattern every component uses: apply with ON CONFLICT DO NOTHING
// keyed by the message's identity, then ack. A crash between apply and ack (simulated by a Nak
// after applying) redelivers the message, and applying it again changes nothing.
TEST_F(StreamIntegrationTest, RedeliveredMessageIsAppliedOnce) {
  absl::StatusOr<std::unique_ptr<testing::TestDatabase>> db = testing::TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<std::unique_ptr<pg::Pool>> pool = pg::Pool::Create({.dsn = (*db)->dsn()});
  ASSERT_TRUE(pool.ok());
  ASSERT_TRUE((*pool)
                  ->Transaction([](pg::Connection& c) {
                    return c.Execute(
                        "CREATE TABLE applied (msg_id TEXT PRIMARY KEY, payload TEXT)");
                  })
                  .ok());
  constexpr pg::Statement kApply{
      "apply", "INSERT INTO applied VALUES ($1, $2) ON CONFLICT (msg_id) DO NOTHING"};

  ASSERT_TRUE(js_->Publish("test.output.i", "hello", "evt-1").ok());
  ASSERT_TRUE(js_->Publish("test.output.i", "hello", "evt-1").ok());  // duplicate publish
  ASSERT_TRUE(js_->Publish("test.output.i", "world", "evt-2").ok());
  std::atomic<int> deliveries{0};
  std::atomic<int> newly_applied{0};
  Received acked;
  auto c = PullConsumer::Start(*js_, Options("idem"), [&](const Message& m) {
    ++deliveries;
    absl::StatusOr<pg::Result> r = (*pool)->Query(kApply, {m.msg_id, m.data});
    if (!r.ok()) return Outcome::Nak(absl::Milliseconds(100));
    newly_applied += static_cast<int>(r->affected());
    if (m.msg_id == "evt-1" && m.num_delivered == 1) {
      return Outcome::Nak(absl::ZeroDuration());  // "crashed" before the ack
    }
    acked.Add(m);
    return Outcome::Ack();
  });
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(acked.WaitFor(2));
  EXPECT_EQ(deliveries, 3);
  EXPECT_EQ(newly_applied, 2);
  absl::StatusOr<pg::Result> rows =
      (*pool)->Query({"count_applied", "SELECT count(*) FROM applied"});
  EXPECT_EQ(rows->Int(0, 0), 2);
}

// Every message in flight at once, each acknowledged; publishing them again (the relay's retry
// after a failure elsewhere in its run) stores nothing twice.
TEST_F(StreamIntegrationTest, PublishAllStoresEachMessageOnce) {
  std::vector<std::string> payloads;
  for (int i = 0; i < 300; ++i) payloads.push_back(absl::StrCat(i));
  std::vector<OutgoingMessage> messages;
  for (int i = 0; i < 300; ++i) {
    messages.push_back(
        {absl::StrCat("test.output.room", i % 7), payloads[i], absl::StrCat("m", i)});
  }
  for (int round = 0; round < 2; ++round) {
    std::vector<absl::StatusOr<PublishAck>> acks = js_->PublishAll(messages);
    ASSERT_EQ(acks.size(), 300u);
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(acks[i].ok()) << i << ": " << acks[i].status();
      EXPECT_EQ(acks[i]->duplicate, round == 1) << i;
    }
  }
  absl::StatusOr<PublishAck> next = js_->Publish("test.output.room0", "next", "m-next");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequence, 301u) << "the second round was stored again";
  Received got;
  auto consumer = PullConsumer::Start(*js_, Options("all"), [&](const Message& m) {
    got.Add(m);
    return Outcome::Ack();
  });
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  ASSERT_TRUE(got.WaitFor(301));
  std::vector<std::string> stored = got.payloads();
  payloads.push_back("next");
  std::sort(stored.begin(), stored.end());
  std::sort(payloads.begin(), payloads.end());
  EXPECT_EQ(stored, payloads);
  EXPECT_NE(Scrape().find("periscope_stream_published_total{outcome=\"duplicate\"} 300"),
            std::string::npos);
}

// With NATS down every message fails at once (no wait for a timeout, nothing held back in the
// client's reconnect buffer to be stored later).
TEST_F(StreamIntegrationTest, PublishAllWhileNatsIsDownFailsAtOnce) {
  nats_->Stop();
  for (absl::Time deadline = absl::Now() + absl::Seconds(5);
       js_->Connected() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::vector<OutgoingMessage> messages = {{"test.output.a", "0", "down-0"},
                                           {"test.output.b", "1", "down-1"}};
  absl::Time start = absl::Now();
  std::vector<absl::StatusOr<PublishAck>> acks = js_->PublishAll(messages, absl::Seconds(2));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  ASSERT_EQ(acks.size(), 2u);
  for (const absl::StatusOr<PublishAck>& ack : acks) {
    EXPECT_EQ(ack.status().code(), absl::StatusCode::kUnavailable) << ack.status();
  }
  ASSERT_TRUE(nats_->Restart().ok());
  std::vector<absl::StatusOr<PublishAck>> later;
  for (absl::Time deadline = absl::Now() + absl::Seconds(10); absl::Now() < deadline;) {
    later = js_->PublishAll(messages, absl::Seconds(1));
    if (later[0].ok() && later[1].ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(later[0].ok() && later[1].ok());
  EXPECT_FALSE(later[0]->duplicate) << "the refused publish was stored after all";
  EXPECT_FALSE(later[1]->duplicate) << "the refused publish was stored after all";
}

TEST(JetStreamConnectTest, UnreachableServerIsUnavailable) {
  absl::StatusOr<std::unique_ptr<JetStream>> js =
      JetStream::Connect({.url = absl::StrCat("nats://127.0.0.1:", testing::FreePort()),
                          .connect_timeout = absl::Milliseconds(300)});
  EXPECT_EQ(js.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace periscope::stream
