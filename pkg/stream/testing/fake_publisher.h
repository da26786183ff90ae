#pragma once
// An in-memory stream::Publisher for unit tests: records every acknowledged message in order and
// can be told to refuse the next publishes (as an unreachable NATS would).

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "pkg/stream/publisher.h"

namespace periscope::stream::testing {

class FakePublisher final : public Publisher {
 public:
  struct Published {
    std::string subject;
    std::string payload;
    std::string msg_id;
  };

  absl::StatusOr<PublishAck> Publish(absl::string_view subject, absl::string_view payload,
                                     absl::string_view msg_id, absl::Duration) override {
    std::function<void()> hook;
    {
      absl::MutexLock lock(&mu_);
      hook = on_publish_;
    }
    // Runs before the message is taken, outside the lock: a test interleaves other work here.
    if (hook) hook();
    absl::MutexLock lock(&mu_);
    if (refused_subjects_.contains(std::string(subject))) {
      return absl::InvalidArgumentError("fake publisher: this subject is refused");
    }
    if (fail_next_ > 0) {
      --fail_next_;
      return absl::UnavailableError("fake publisher: refused");
    }
    for (const Published& p : published_) {
      // JetStream's duplicate window: a second message with the same id is not stored again.
      if (!msg_id.empty() && p.msg_id == msg_id) return PublishAck{0, true};
    }
    published_.push_back({std::string(subject), std::string(payload), std::string(msg_id)});
    return PublishAck{published_.size(), false};
  }

  // The next `n` publishes fail with UNAVAILABLE.
  void FailNext(int n) {
    absl::MutexLock lock(&mu_);
    fail_next_ = n;
  }

  // Every publish to `subject` fails from now on (as a message the server will never take).
  void RefuseSubject(std::string subject) {
    absl::MutexLock lock(&mu_);
    refused_subjects_.insert(std::move(subject));
  }

  // Runs at the start of every Publish (e.g. to commit another transaction mid-relay).
  void OnPublish(std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    on_publish_ = std::move(hook);
  }

  std::vector<Published> published() const {
    absl::MutexLock lock(&mu_);
    return published_;
  }

 private:
  mutable absl::Mutex mu_;
  int fail_next_ = 0;
  std::set<std::string> refused_subjects_;
  std::function<void()> on_publish_;
  std::vector<Published> published_;
};

}  // namespace periscope::stream::testing
