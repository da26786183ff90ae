// The JetStream floor for benchmark figures: acknowledged publishes of a 1 KiB message, one at a
// time (each waits for the server's ack, as the roomserver's outbox relay does), to a stream with
// file storage on this machine's disk, then the same with 10 in flight at a time. Prints one
// line: "<rate> publishes/s serial (p50 <x> ms), <rate>/s with 10 in flight".
//
//   build/bench/jetstream_publish_floor nats://127.0.0.1:4222 [count]

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pkg/stream/jetstream.h"

int main(int argc, char** argv) {
  using namespace periscope;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <nats url> [count]\n", argv[0]);
    return 2;
  }
  int count = 1000;
  if (argc > 2 && !absl::SimpleAtoi(argv[2], &count)) count = 1000;
  absl::StatusOr<std::unique_ptr<stream::JetStream>> js =
      stream::JetStream::Connect({.url = argv[1], .client_name = "periscope-bench-floor"});
  if (!js.ok()) {
    std::fprintf(stderr, "%s\n", js.status().ToString().c_str());
    return 1;
  }
  const std::string name = absl::StrCat("BENCH_FLOOR_", absl::ToUnixMicros(absl::Now()));
  stream::StreamSpec spec;
  spec.name = name;
  spec.subjects = {absl::StrCat("benchfloor.", name)};
  spec.max_bytes = 64 << 20;
  if (absl::Status s = (*js)->DeclareStream(spec); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const std::string payload(1024, 'x');
  std::vector<double> latencies;
  const absl::Time start = absl::Now();
  for (int i = 0; i < count; ++i) {
    const absl::Time before = absl::Now();
    absl::StatusOr<stream::PublishAck> ack =
        (*js)->Publish(spec.subjects[0], payload, absl::StrCat(name, "-", i));
    if (!ack.ok()) {
      std::fprintf(stderr, "%s\n", ack.status().ToString().c_str());
      return 1;
    }
    latencies.push_back(absl::ToDoubleMilliseconds(absl::Now() - before));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::sort(latencies.begin(), latencies.end());
  // The same count again, 10 in flight at a time (PublishAll, as the relay sends ten rooms).
  const absl::Time concurrent_start = absl::Now();
  for (int i = 0; i < count; i += 10) {
    std::vector<stream::OutgoingMessage> messages;
    for (int j = i; j < std::min(i + 10, count); ++j) {
      messages.push_back({spec.subjects[0], payload, absl::StrCat(name, "-c", j)});
    }
    for (const absl::StatusOr<stream::PublishAck>& ack : (*js)->PublishAll(messages)) {
      if (!ack.ok()) {
        std::fprintf(stderr, "%s\n", ack.status().ToString().c_str());
        return 1;
      }
    }
  }
  const double concurrent_seconds = absl::ToDoubleSeconds(absl::Now() - concurrent_start);
  std::printf("%.0f publishes/s serial (p50 %.2f ms), %.0f/s with 10 in flight\n", count / seconds,
              latencies[latencies.size() / 2], count / concurrent_seconds);
  return 0;
}
