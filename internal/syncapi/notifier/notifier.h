#pragma once
// Wakes waiting /sync calls. A waiting call registers (user, the position it has seen, a
// deadline, a callback) and holds no thread; when the output consumer applies an event relevant to
// the user, or the deadline passes, the callback runs once, on one of the notifier's worker
// threads. Several workers let the many syncs one event wakes be rebuilt in parallel (each build
// mostly waits on PostgreSQL).
//
// No wake-up is lost: Wait compares the position the caller has seen with the newest position the
// notifier was told about, and fires at once if the caller is behind.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pkg/clock/clock.h"

namespace periscope::syncapi {

class Notifier {
 public:
  // Why a callback ran.
  enum class Reason { kWoken, kTimedOut, kShutdown, kCancelled };
  using Callback = std::function<void(Reason)>;

  explicit Notifier(const Clock& clock, int workers = 4);
  ~Notifier();

  // Runs `callback` once: when `user_id` is woken for a position after `seen_pos`, when
  // `deadline` passes, when Cancel(cancel_key) is called, or at shutdown. A non-zero cancel_key
  // names the caller (one waiter per key at a time).
  void Wait(const std::string& user_id, int64_t seen_pos, absl::Time deadline, Callback callback,
            uint64_t cancel_key = 0);

  // Runs the callback of the waiter registered under `cancel_key` now, with kCancelled (the
  // client went away). If none is waiting, the key is remembered and a later Wait under it is
  // cancelled at once, so that a cancel racing with a registration is never lost.
  void Cancel(uint64_t cancel_key);
  // Drops what Cancel remembered of `cancel_key` (its call is over).
  void Forget(uint64_t cancel_key);

  // Tells the notifier that position `pos` concerns `user_ids`.
  void Wake(const std::vector<std::string>& user_ids, int64_t pos);

  // Runs `task` on a worker thread (at once on the caller's after Shutdown): work that must not
  // hold the caller's thread, such as a first sync build that reads PostgreSQL.
  void Post(std::function<void()> task);

  // Runs every pending callback with kShutdown; later Waits run at once with kShutdown.
  void Shutdown();
  // Shutdown, then waits until the workers have run everything queued and ended: after this no
  // callback or posted task runs on a worker (what they use may be destroyed). Idempotent.
  void Stop();

  size_t waiting() const;

 private:
  struct Waiter {
    uint64_t id;
    std::string user_id;
    absl::Time deadline;
    Callback callback;
    uint64_t cancel_key;
  };
  void Run();
  void Register(const std::string& user_id, int64_t seen_pos, absl::Time deadline,
                Callback callback, uint64_t cancel_key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the waiter out of the maps; null if it already fired.
  std::unique_ptr<Waiter> TakeLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  int64_t latest_pos_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, std::unique_ptr<Waiter>> waiters_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, uint64_t> by_user_ ABSL_GUARDED_BY(mu_);
  std::multimap<absl::Time, uint64_t> by_deadline_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, uint64_t> by_cancel_key_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> cancelled_keys_ ABSL_GUARDED_BY(mu_);
  // Callbacks ready to run on the worker thread.
  std::deque<std::pair<std::unique_ptr<Waiter>, Reason>> ready_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

}  // namespace periscope::syncapi
