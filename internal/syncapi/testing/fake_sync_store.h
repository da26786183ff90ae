#pragma once
// An in-memory SyncStore for unit tests, with PostgreSQL's semantics where they matter (positions
// from one sequence, idempotent event writes, per-room stream sequences, peeks re-opened only by
// a fresh start) and fault injection: the next writes can fail before or after they "commit", as
// a lost COMMIT answer would.

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "internal/syncapi/storage/sync_store.h"

namespace periscope::syncapi::testing {

class FakeSyncStore final : public SyncStore {
 public:
  enum class Fault { kNone, kFailBeforeCommit, kFailAfterCommit };

  // After `skip` more writes, the next `n` writes (events, peeks, account data, redactions) fail
  // with UNAVAILABLE, having changed nothing (kFailBeforeCommit) or everything (kFailAfterCommit).
  void InjectFaults(int n, Fault fault, int skip = 0) {
    absl::MutexLock lock(&mu_);
    faults_ = n;
    fault_ = fault;
    skip_ = skip;
  }
  // How many writes were attempted.
  int writes() const {
    absl::MutexLock lock(&mu_);
    return writes_;
  }

  // Called with each event about to be applied (before the store's lock): a test looks at what
  // the store holds at the moment the room's sequence is about to say the event is in.
  std::function<void(const SyncEvent&)> before_apply;

  absl::StatusOr<std::optional<int64_t>> ApplyEvent(const SyncEvent& event,
                                                    const std::vector<StateUpdate>& state,
                                                    int64_t room_seq) override {
    if (before_apply) before_apply(event);
    absl::MutexLock lock(&mu_);
    return Write<std::optional<int64_t>>([&]() -> std::optional<int64_t> {
      if (!ClaimSequence(event.room_id, room_seq)) return std::nullopt;
      for (const SyncEvent& e : events_) {
        if (e.event_id == event.event_id) return std::nullopt;
      }
      for (const StateUpdate& update : state) {
        // As PgSyncStore: kept for state reads, in no timeline.
        if (update.state_only_json.empty() || !update.event_id) continue;
        if (!state_only_ids_.insert(*update.event_id).second) continue;
        SyncEvent only;
        only.pos = ++pos_;
        only.event_id = *update.event_id;
        only.room_id = event.room_id;
        only.type = update.type;
        only.state_key = update.state_key;
        only.sender = update.state_only_sender;
        only.event_json = update.state_only_json;
        only.membership = update.membership;
        events_.push_back(only);
      }
      SyncEvent stored = event;
      stored.pos = ++pos_;
      events_.push_back(stored);
      for (const StateUpdate& update : state) {
        std::tuple<std::string, std::string, std::string> key{event.room_id, update.type,
                                                              update.state_key};
        changes_.push_back({event.room_id, update.type, update.state_key, stored.pos,
                            update.event_id.value_or("")});
        const SyncEvent* entering = nullptr;
        for (const SyncEvent& e : events_) {
          if (update.event_id && e.event_id == *update.event_id) entering = &e;
        }
        if (entering == nullptr) {
          state_.erase(key);
        } else {
          SyncEvent entry = *entering;
          entry.membership = update.membership;
          entry.pos = stored.pos;
          state_[key] = entry;
        }
      }
      return stored.pos;
    });
  }
  absl::StatusOr<int64_t> AppliedRoomSequence(absl::string_view room_id) override {
    absl::MutexLock lock(&mu_);
    auto it = room_seq_.find(std::string(room_id));
    return it == room_seq_.end() ? 0 : it->second;
  }
  absl::StatusOr<bool> AdvanceRoomSequence(absl::string_view room_id, int64_t room_seq) override {
    absl::MutexLock lock(&mu_);
    return Write<bool>([&] { return ClaimSequence(std::string(room_id), room_seq); });
  }
  absl::StatusOr<bool> StoreRedacted(absl::string_view room_id, absl::string_view event_id,
                                     absl::string_view redacted_json) override {
    absl::MutexLock lock(&mu_);
    return Write<bool>([&] {
      for (SyncEvent& e : events_) {
        if (e.room_id == room_id && e.event_id == event_id) {
          e.event_json = std::string(redacted_json);
          return true;
        }
      }
      return false;
    });
  }
  absl::StatusOr<std::optional<SyncEvent>> EventInRoom(absl::string_view room_id,
                                                       absl::string_view event_id) override {
    absl::MutexLock lock(&mu_);
    for (const SyncEvent& e : events_) {
      if (e.room_id == room_id && e.event_id == event_id) return std::optional<SyncEvent>(e);
    }
    return std::optional<SyncEvent>();
  }
  absl::StatusOr<int64_t> MaxPosition() override {
    std::function<void()> hook;
    {
      absl::MutexLock lock(&mu_);
      hook = on_max_position_;
    }
    if (hook) hook();  // outside the lock: a test may block here
    absl::MutexLock lock(&mu_);
    return pos_;
  }
  // Runs at every MaxPosition (the first read of every /sync build).
  void OnMaxPosition(std::function<void()> hook) {
    absl::MutexLock lock(&mu_);
    on_max_position_ = std::move(hook);
  }
  absl::StatusOr<std::vector<RoomMembership>> MembershipsOf(absl::string_view user_id) override {
    absl::MutexLock lock(&mu_);
    std::vector<RoomMembership> out;
    for (const auto& [key, e] : state_) {
      if (std::get<1>(key) == "m.room.member" && std::get<2>(key) == user_id) {
        out.push_back({e.room_id, e.membership, e.pos});
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> JoinedUsers(absl::string_view room_id) override {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& [key, e] : state_) {
      if (std::get<0>(key) == room_id && std::get<1>(key) == "m.room.member" &&
          e.membership == "join") {
        out.push_back(std::get<2>(key));
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<SyncEvent>> CurrentState(absl::string_view room_id) override {
    absl::MutexLock lock(&mu_);
    std::vector<SyncEvent> out;
    for (const auto& [key, e] : state_) {
      if (std::get<0>(key) == room_id) out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pos < b.pos; });
    return out;
  }
  absl::StatusOr<std::vector<SyncEvent>> StateAt(absl::string_view room_id, int64_t pos) override {
    absl::MutexLock lock(&mu_);
    std::map<std::pair<std::string, std::string>, std::string> state;  // changes_ is in pos order
    for (const Change& c : changes_) {
      if (c.room_id == room_id && c.pos <= pos) state[{c.type, c.state_key}] = c.event_id;
    }
    std::vector<SyncEvent> out;
    for (const auto& [key, id] : state) {
      for (const SyncEvent& e : events_) {
        if (!id.empty() && e.event_id == id) out.push_back(e);
      }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pos < b.pos; });
    return out;
  }
  absl::StatusOr<std::vector<SyncEvent>> StateHistory(absl::string_view room_id,
                                                      absl::string_view type,
                                                      absl::string_view state_key) override {
    absl::MutexLock lock(&mu_);
    std::vector<SyncEvent> out;
    for (const Change& c : changes_) {
      if (c.room_id != room_id || c.type != type || c.state_key != state_key) continue;
      SyncEvent entry;
      for (const SyncEvent& e : events_) {
        if (!c.event_id.empty() && e.event_id == c.event_id) entry = e;
      }
      entry.pos = c.pos;
      entry.room_id = c.room_id;
      entry.type = c.type;
      entry.state_key = c.state_key;
      out.push_back(entry);
    }
    return out;
  }
  absl::StatusOr<std::vector<SyncEvent>> RecentEvents(absl::string_view room_id, int64_t from,
                                                      int64_t to, int limit,
                                                      bool* limited) override {
    absl::MutexLock lock(&mu_);
    std::vector<SyncEvent> out;
    for (const SyncEvent& e : events_) {
      if (e.room_id == room_id && e.pos > from && e.pos <= to &&
          !state_only_ids_.contains(e.event_id)) {
        out.push_back(e);
      }
    }
    if (limited != nullptr) *limited = static_cast<int>(out.size()) > limit;
    if (static_cast<int>(out.size()) > limit) out.erase(out.begin(), out.end() - limit);
    return out;
  }
  absl::StatusOr<std::vector<SyncEvent>> EventsPage(absl::string_view room_id, int64_t from,
                                                    int64_t to, bool backwards,
                                                    int limit) override {
    absl::MutexLock lock(&mu_);
    std::vector<SyncEvent> out;
    for (const SyncEvent& e : events_) {
      if (e.room_id != room_id || state_only_ids_.contains(e.event_id)) continue;
      bool in =
          backwards ? (e.pos <= from && e.pos > to) : (e.pos > from && (to == 0 || e.pos <= to));
      if (in) out.push_back(e);
    }
    if (backwards) std::reverse(out.begin(), out.end());
    if (static_cast<int>(out.size()) > limit) out.resize(limit);
    return out;
  }
  absl::StatusOr<RoomMembership> MembershipIn(absl::string_view room_id,
                                              absl::string_view user_id) override {
    absl::MutexLock lock(&mu_);
    auto it = state_.find({std::string(room_id), "m.room.member", std::string(user_id)});
    if (it == state_.end()) return RoomMembership{std::string(room_id), "", 0};
    return RoomMembership{std::string(room_id), it->second.membership, it->second.pos};
  }
  absl::StatusOr<std::vector<std::string>> ActiveRoomsOf(absl::string_view user_id, int64_t from,
                                                         int64_t to) override {
    absl::MutexLock lock(&mu_);
    std::set<std::string> rooms;
    for (const SyncEvent& e : events_) {
      if (e.pos > from && e.pos <= to && !state_only_ids_.contains(e.event_id) &&
          state_.count({e.room_id, "m.room.member", std::string(user_id)}) > 0) {
        rooms.insert(e.room_id);
      }
    }
    return std::vector<std::string>(rooms.begin(), rooms.end());
  }
  absl::StatusOr<int64_t> PutAccountData(absl::string_view user_id, absl::string_view room_id,
                                         absl::string_view type,
                                         absl::string_view content_json) override {
    absl::MutexLock lock(&mu_);
    return Write<int64_t>([&] {
      AccountDataEntry& e =
          account_data_[{std::string(user_id), std::string(room_id), std::string(type)}];
      e = {std::string(room_id), std::string(type), std::string(content_json), ++pos_};
      return e.pos;
    });
  }
  absl::StatusOr<int64_t> ModifyAccountData(absl::string_view user_id, absl::string_view room_id,
                                            absl::string_view type,
                                            const AccountDataModifier& modify) override {
    absl::MutexLock lock(&mu_);
    std::tuple<std::string, std::string, std::string> key{std::string(user_id),
                                                          std::string(room_id), std::string(type)};
    std::optional<std::string> current;
    if (auto it = account_data_.find(key); it != account_data_.end()) {
      current = it->second.content_json;
    }
    absl::StatusOr<std::string> next = modify(current);
    if (!next.ok()) return next.status();
    return Write<int64_t>([&] {
      account_data_[key] = {std::string(room_id), std::string(type), *next, ++pos_};
      return pos_;
    });
  }
  absl::StatusOr<std::optional<std::string>> AccountData(absl::string_view user_id,
                                                         absl::string_view room_id,
                                                         absl::string_view type) override {
    absl::MutexLock lock(&mu_);
    auto it = account_data_.find({std::string(user_id), std::string(room_id), std::string(type)});
    if (it == account_data_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second.content_json);
  }
  absl::StatusOr<std::optional<int64_t>> StartPeek(absl::string_view room_id,
                                                   absl::string_view user_id,
                                                   absl::string_view device_id, int64_t expiry_ts,
                                                   int64_t room_seq) override {
    absl::MutexLock lock(&mu_);
    return Write<std::optional<int64_t>>([&]() -> std::optional<int64_t> {
      if (!ClaimSequence(std::string(room_id), room_seq)) return std::nullopt;
      PeekRow& row = peeks_[{std::string(user_id), std::string(device_id), std::string(room_id)}];
      if (row.live) {
        row.peek.expiry_ts = std::max(row.peek.expiry_ts, expiry_ts);
        return std::nullopt;
      }
      row.live = true;
      row.peek = {std::string(room_id), ++pos_, expiry_ts, std::nullopt, ""};
      return row.peek.pos;
    });
  }
  absl::StatusOr<std::optional<int64_t>> EndPeek(absl::string_view room_id,
                                                 absl::string_view user_id,
                                                 absl::string_view device_id,
                                                 absl::string_view reason,
                                                 int64_t room_seq) override {
    absl::MutexLock lock(&mu_);
    return Write<std::optional<int64_t>>([&]() -> std::optional<int64_t> {
      if (!ClaimSequence(std::string(room_id), room_seq)) return std::nullopt;
      auto it = peeks_.find({std::string(user_id), std::string(device_id), std::string(room_id)});
      if (it == peeks_.end() || !it->second.live) return std::nullopt;
      it->second.live = false;
      it->second.peek.ended_pos = ++pos_;
      it->second.peek.ended_reason = std::string(reason);
      return pos_;
    });
  }
  absl::StatusOr<std::vector<DevicePeek>> PeeksOf(absl::string_view user_id,
                                                  absl::string_view device_id) override {
    absl::MutexLock lock(&mu_);
    std::vector<DevicePeek> out;
    for (const auto& [key, row] : peeks_) {
      if (std::get<0>(key) == user_id && std::get<1>(key) == device_id) out.push_back(row.peek);
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> PeekingUsers(absl::string_view room_id) override {
    absl::MutexLock lock(&mu_);
    std::set<std::string> users;
    for (const auto& [key, row] : peeks_) {
      if (std::get<2>(key) == room_id && row.live) users.insert(std::get<0>(key));
    }
    return std::vector<std::string>(users.begin(), users.end());
  }
  absl::Status RenewPeeks(absl::string_view user_id, absl::string_view device_id,
                          int64_t expiry_ts) override {
    absl::MutexLock lock(&mu_);
    for (auto& [key, row] : peeks_) {
      if (std::get<0>(key) == user_id && std::get<1>(key) == device_id && row.live) {
        row.peek.expiry_ts = std::max(row.peek.expiry_ts, expiry_ts);
      }
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> LivePeekCount() override {
    absl::MutexLock lock(&mu_);
    int64_t n = 0;
    for (const auto& [key, row] : peeks_) n += row.live ? 1 : 0;
    return n;
  }
  absl::StatusOr<std::vector<std::array<std::string, 3>>> LapsedPeeks(int64_t now_ts) override {
    absl::MutexLock lock(&mu_);
    std::vector<std::array<std::string, 3>> out;
    for (const auto& [key, row] : peeks_) {
      if (row.live && row.peek.expiry_ts < now_ts) {
        out.push_back({std::get<2>(key), std::get<0>(key), std::get<1>(key)});
      }
    }
    return out;
  }
  absl::StatusOr<std::vector<AccountDataEntry>> AccountDataChanges(absl::string_view user_id,
                                                                   int64_t from,
                                                                   int64_t to) override {
    absl::MutexLock lock(&mu_);
    std::vector<AccountDataEntry> out;
    for (const auto& [key, e] : account_data_) {
      if (std::get<0>(key) == user_id && e.pos > from && e.pos <= to) out.push_back(e);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pos < b.pos; });
    return out;
  }

 private:
  struct PeekRow {
    bool live = false;
    DevicePeek peek;
  };

  // Runs one write under the injected fault, if any.
  template <typename T, typename Body>
  absl::StatusOr<T> Write(const Body& body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++writes_;
    if (skip_ > 0) {
      --skip_;
    } else if (faults_ > 0) {
      --faults_;
      if (fault_ == Fault::kFailAfterCommit) body();
      return absl::UnavailableError("fake sync store: injected failure");
    }
    return body();
  }
  bool ClaimSequence(const std::string& room_id, int64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (seq <= 0) return true;
    int64_t& last = room_seq_[room_id];
    if (seq <= last) return false;
    last = seq;
    return true;
  }

  mutable absl::Mutex mu_;
  int faults_ ABSL_GUARDED_BY(mu_) = 0;
  int skip_ ABSL_GUARDED_BY(mu_) = 0;
  Fault fault_ ABSL_GUARDED_BY(mu_) = Fault::kNone;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t pos_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<SyncEvent> events_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> state_only_ids_ ABSL_GUARDED_BY(mu_);
  // The current state; each entry's pos is that of the message that set it, as in PostgreSQL.
  std::map<std::tuple<std::string, std::string, std::string>, SyncEvent> state_
      ABSL_GUARDED_BY(mu_);
  // Every state change in position order (event_id "" where the key left the state).
  struct Change {
    std::string room_id;
    std::string type;
    std::string state_key;
    int64_t pos = 0;
    std::string event_id;
  };
  std::vector<Change> changes_ ABSL_GUARDED_BY(mu_);
  std::map<std::tuple<std::string, std::string, std::string>, AccountDataEntry> account_data_
      ABSL_GUARDED_BY(mu_);
  std::map<std::tuple<std::string, std::string, std::string>, PeekRow> peeks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> room_seq_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_max_position_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::syncapi::testing
