#include "internal/syncapi/notifier/notifier.h"

#include <algorithm>

namespace periscope::syncapi {

Notifier::Notifier(const Clock& clock, int workers) : clock_(clock) {
  for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] { Run(); });
}

Notifier::~Notifier() { Stop(); }

void Notifier::Stop() {
  Shutdown();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

std::unique_ptr<Notifier::Waiter> Notifier::TakeLocked(uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return nullptr;
  std::unique_ptr<Waiter> waiter = std::move(it->second);
  waiters_.erase(it);
  for (auto [u, end] = by_user_.equal_range(waiter->user_id); u != end; ++u) {
    if (u->second == id) {
      by_user_.erase(u);
      break;
    }
  }
  for (auto [d, end] = by_deadline_.equal_range(waiter->deadline); d != end; ++d) {
    if (d->second == id) {
      by_deadline_.erase(d);
      break;
    }
  }
  if (waiter->cancel_key != 0) by_cancel_key_.erase(waiter->cancel_key);
  return waiter;
}

void Notifier::Wait(const std::string& user_id, int64_t seen_pos, absl::Time deadline,
                    Callback callback, uint64_t cancel_key) {
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) {
      Register(user_id, seen_pos, deadline, std::move(callback), cancel_key);
      return;
    }
  }
  // The worker may be gone: answer on the caller's thread.
  callback(Reason::kShutdown);
}

void Notifier::Cancel(uint64_t cancel_key) {
  absl::MutexLock lock(&mu_);
  cancelled_keys_.insert(cancel_key);
  auto it = by_cancel_key_.find(cancel_key);
  if (it == by_cancel_key_.end()) return;
  if (std::unique_ptr<Waiter> waiter = TakeLocked(it->second)) {
    ready_.emplace_back(std::move(waiter), Reason::kCancelled);
  }
}

void Notifier::Forget(uint64_t cancel_key) {
  absl::MutexLock lock(&mu_);
  cancelled_keys_.erase(cancel_key);
}

void Notifier::Register(const std::string& user_id, int64_t seen_pos, absl::Time deadline,
                        Callback callback, uint64_t cancel_key) {
  auto waiter = std::make_unique<Waiter>(
      Waiter{next_id_++, user_id, deadline, std::move(callback), cancel_key});
  if (cancel_key != 0 && cancelled_keys_.contains(cancel_key)) {
    ready_.emplace_back(std::move(waiter), Reason::kCancelled);
    return;
  }
  // Something newer than what the caller saw was already announced: let it look again now.
  if (latest_pos_ > seen_pos) {
    ready_.emplace_back(std::move(waiter), Reason::kWoken);
    return;
  }
  const uint64_t id = waiter->id;
  by_user_.emplace(user_id, id);
  by_deadline_.emplace(deadline, id);
  if (cancel_key != 0) by_cancel_key_[cancel_key] = id;
  waiters_.emplace(id, std::move(waiter));
}

void Notifier::Wake(const std::vector<std::string>& user_ids, int64_t pos) {
  absl::MutexLock lock(&mu_);
  latest_pos_ = std::max(latest_pos_, pos);
  for (const std::string& user : user_ids) {
    std::vector<uint64_t> ids;
    for (auto [it, end] = by_user_.equal_range(user); it != end; ++it) ids.push_back(it->second);
    for (uint64_t id : ids) {
      if (std::unique_ptr<Waiter> waiter = TakeLocked(id)) {
        ready_.emplace_back(std::move(waiter), Reason::kWoken);
      }
    }
  }
}

void Notifier::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shutdown_) return;
  shutdown_ = true;
  std::vector<uint64_t> ids;
  for (const auto& [id, waiter] : waiters_) ids.push_back(id);
  for (uint64_t id : ids) ready_.emplace_back(TakeLocked(id), Reason::kShutdown);
}

void Notifier::Post(std::function<void()> task) {
  {
    absl::MutexLock lock(&mu_);
    if (!shutdown_) {
      auto waiter = std::make_unique<Waiter>();
      waiter->callback = [task = std::move(task)](Reason) { task(); };
      ready_.emplace_back(std::move(waiter), Reason::kWoken);
      return;
    }
  }
  task();  // the workers may have stopped
}

size_t Notifier::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiters_.size();
}

void Notifier::Run() {
  while (true) {
    std::pair<std::unique_ptr<Waiter>, Reason> item;
    {
      absl::MutexLock lock(&mu_);
      // Sleep until there is work, the next deadline, or 100 ms (the clock is injected, so the
      // deadline check polls it rather than trusting a real-time wait).
      auto has_work = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !ready_.empty() || (shutdown_ && waiters_.empty());
      };
      mu_.AwaitWithTimeout(absl::Condition(&has_work), absl::Milliseconds(100));
      const absl::Time now = clock_.Now();
      while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
        ready_.emplace_back(TakeLocked(by_deadline_.begin()->second), Reason::kTimedOut);
      }
      if (ready_.empty()) {
        if (shutdown_ && waiters_.empty()) return;
        continue;
      }
      // One at a time, so that the other workers take the rest in parallel.
      item = std::move(ready_.front());
      ready_.pop_front();
    }
    item.first->callback(item.second);
  }
}

}  // namespace periscope::syncapi
