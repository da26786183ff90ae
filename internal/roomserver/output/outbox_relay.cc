#include "internal/roomserver/output/outbox_relay.h"

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/logging/logging.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

OutboxRelay::~OutboxRelay() {
  {
    absl::MutexLock lock(&wake_mu_);
    stopping_ = true;
  }
  if (thread_) thread_->join();
}

void OutboxRelay::Wake() {
  absl::MutexLock lock(&wake_mu_);
  woken_ = true;
}

absl::Status OutboxRelay::PublishPending() {
  absl::MutexLock lock(&run_mu_);
  constexpr int kBatch = 256;
  // Rooms whose publish failed in this run: the rest of their messages wait, in order, for the
  // next run, while the run reads on without them so that other rooms go on. A round of several
  // rooms in which every publish failed ends the run (NATS is out; the retry interval applies).
  std::vector<std::string> closed;
  absl::Status failed;
  while (true) {
    // From the oldest again each time (what went out was deleted): a row of a lower position may
    // have committed since the last read, and must go before its room's later ones.
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<OutboxEntry> pending,
                               store_.PendingOutput(closed, kBatch));
    if (pending.empty()) break;
    // A long drain reports its progress, and stops between batches when the relay is stopping
    // (what is left stays in the outbox for the next start).
    ReportDepth();
    {
      absl::MutexLock wake_lock(&wake_mu_);
      if (stopping_) return absl::OkStatus();
    }
    // Each room's messages form a lane: one at a time, each only after the one before it was
    // acknowledged, while the lanes go together (PublishAll: one message of each room in flight
    // per round). So a room's message is never stored behind a later one of the same room, even
    // when a publish is lost in a connection drop and the next waits in the client's reconnect
    // buffer; consumers would take the late one for a redelivery.
    std::map<std::string, std::deque<const OutboxEntry*>> lanes;
    for (const OutboxEntry& entry : pending) lanes[entry.subject_suffix].push_back(&entry);
    std::vector<int64_t> published;
    bool all_failed = false;  // a whole round refused: NATS is out, not one room's message
    while (!lanes.empty() && !all_failed) {
      std::vector<const OutboxEntry*> round;
      std::vector<stream::OutgoingMessage> messages;
      for (const auto& [subject, lane] : lanes) {
        round.push_back(lane.front());
        messages.push_back({absl::StrCat(subject_prefix_, ".", subject), lane.front()->payload,
                            lane.front()->msg_id});
      }
      std::vector<absl::StatusOr<stream::PublishAck>> acks = publisher_.PublishAll(messages);
      // (One room alone failing says nothing of the others: its lane closes and the run goes on.)
      all_failed = round.size() > 1;
      for (size_t i = 0; i < round.size(); ++i) {
        auto lane = lanes.find(round[i]->subject_suffix);
        if (acks[i].ok()) {
          all_failed = false;
          published.push_back(round[i]->position);
          lane->second.pop_front();
          if (lane->second.empty()) lanes.erase(lane);
        } else {
          if (failed.ok()) failed = acks[i].status();
          closed.push_back(lane->first);
          lanes.erase(lane);
        }
      }
    }
    // Forget exactly what went out (also when another publish failed, so it is not resent).
    PERISCOPE_RETURN_IF_ERROR(store_.MarkOutputPublished(published));
    if (all_failed || pending.size() < kBatch) break;
  }
  return failed;
}

void OutboxRelay::ReportDepth() {
  // Wall time: the gauge's pace only, nothing is decided by it.
  if (!on_depth_ || absl::Now() - depth_reported_ < depth_interval_) return;
  depth_reported_ = absl::Now();
  if (absl::StatusOr<OutboxDepth> depth = store_.Depth(); depth.ok()) on_depth_(*depth);
}

void OutboxRelay::Start(absl::Duration retry_interval,
                        std::function<void(const OutboxDepth& depth)> on_depth) {
  {
    absl::MutexLock lock(&run_mu_);
    on_depth_ = std::move(on_depth);
    depth_interval_ = retry_interval;
  }
  thread_ = std::make_unique<std::thread>([this, retry_interval] {
    bool failed = false;
    while (true) {
      {
        absl::MutexLock lock(&wake_mu_);
        // After a failure, wakes wait for the interval: an outage is not tried once per send.
        auto ready = [this, &failed]() ABSL_SHARED_LOCKS_REQUIRED(wake_mu_) {
          return stopping_ || (woken_ && !failed);
        };
        wake_mu_.AwaitWithTimeout(absl::Condition(&ready), retry_interval);
        if (stopping_) return;
        woken_ = false;
      }
      absl::Status s = PublishPending();
      failed = !s.ok();
      if (failed) logging::Warn("roomserver.publish_deferred", {{"error", s}});
      absl::MutexLock lock(&run_mu_);
      ReportDepth();
    }
  });
}

}  // namespace periscope::roomserver
