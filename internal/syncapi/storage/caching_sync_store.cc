#include "internal/syncapi/storage/caching_sync_store.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "internal/syncapi/sync/client_event.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {
namespace {

std::string DeviceKey(absl::string_view user_id, absl::string_view device_id) {
  return absl::StrCat(user_id, "\n", device_id);
}

// What a keyed cache entry is counted as against SyncCacheLimits::keyed_bytes: its strings plus
// a fixed overhead per element for the containers.
constexpr size_t kElementOverhead = 64;
size_t ValueBytes(const RoomMembership& m) { return m.room_id.size() + m.membership.size(); }
size_t ValueBytes(const AccountDataEntry& e) {
  return e.room_id.size() + e.type.size() + e.content_json.size();
}
size_t ValueBytes(const DevicePeek& p) { return p.room_id.size() + p.ended_reason.size(); }
size_t ValueBytes(const std::string& s) { return s.size(); }
size_t ValueBytes(const SyncEvent& e) { return RoomEventCache::EventBytes(e); }
template <typename T>
size_t CachedBytes(const std::string& key, const std::vector<T>& values) {
  size_t n = key.size() + kElementOverhead;
  for (const T& v : values) n += ValueBytes(v) + kElementOverhead;
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CachingSyncStore>> CachingSyncStore::Create(SyncStore& inner,
                                                                           SyncCacheLimits limits) {
  PERISCOPE_ASSIGN_OR_RETURN(int64_t max_pos, inner.MaxPosition());
  return std::unique_ptr<CachingSyncStore>(new CachingSyncStore(inner, limits, max_pos));
}

CachingSyncStore::CachingSyncStore(SyncStore& inner, SyncCacheLimits limits, int64_t max_pos)
    : inner_(inner),
      limits_(limits),
      max_pos_(max_pos),
      events_(limits.rooms, limits.events_per_room, limits.event_bytes) {}

void CachingSyncStore::ClearKeyedLocked() {
  memberships_.clear();
  account_data_.clear();
  peeks_.clear();
  joined_.clear();
  peekers_.clear();
  visibility_.clear();
  keyed_bytes_ = 0;
  ++generation_;
}

template <typename Value, typename Load>
absl::StatusOr<Value> CachingSyncStore::Cached(absl::flat_hash_map<std::string, Value>& cache,
                                               const std::string& key, const Load& load) {
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    generation = generation_;
  }
  PERISCOPE_ASSIGN_OR_RETURN(Value value, load());
  absl::MutexLock lock(&mu_);
  if (generation_ == generation) {
    const size_t bytes = CachedBytes(key, value);
    if (cache.size() >= limits_.users) {
      for (const auto& [k, v] : cache) keyed_bytes_ -= CachedBytes(k, v);
      cache.clear();
    }
    if (keyed_bytes_ + bytes > limits_.keyed_bytes) ClearKeyedLocked();
    if (bytes <= limits_.keyed_bytes && cache.emplace(key, value).second) keyed_bytes_ += bytes;
  }
  return value;
}

template <typename Value>
void CachingSyncStore::Drop(absl::flat_hash_map<std::string, Value>& cache, absl::string_view key) {
  if (auto it = cache.find(key); it != cache.end()) {
    keyed_bytes_ -= CachedBytes(it->first, it->second);
    cache.erase(it);
  }
  ++generation_;
}

void CachingSyncStore::Publish(int64_t pos) {
  if (pos > max_pos_.load()) max_pos_.store(pos);
}

bool CachingSyncStore::MayHaveCommitted(const absl::Status& status) {
  // A refusal (M_TOO_LARGE, a modifier's error, a unique violation) committed nothing; a lost
  // connection or an unknown failure may have.
  return !status.ok() && !absl::IsInvalidArgument(status) && !absl::IsAlreadyExists(status) &&
         !absl::IsFailedPrecondition(status) && !absl::IsPermissionDenied(status) &&
         !absl::IsNotFound(status);
}

void CachingSyncStore::ResyncIfUncertain() {
  if (!uncertain_) return;
  // Positions commit in order (syncapi's advisory lock), so the database's newest position covers
  // everything the uncertain write may have committed.
  if (absl::StatusOr<int64_t> max = inner_.MaxPosition(); max.ok()) {
    Publish(*max);
    uncertain_ = false;
  }
}

void CachingSyncStore::AccountDataWritten(absl::string_view user_id,
                                          const absl::StatusOr<int64_t>& pos) {
  {
    absl::MutexLock lock(&mu_);
    Drop(account_data_, user_id);
  }
  if (pos.ok()) Publish(*pos);
}

void CachingSyncStore::PeekWritten(absl::string_view room_id, absl::string_view user_id,
                                   absl::string_view device_id,
                                   const absl::StatusOr<std::optional<int64_t>>& pos) {
  {
    absl::MutexLock lock(&mu_);
    Drop(peeks_, DeviceKey(user_id, device_id));
    Drop(peekers_, room_id);
  }
  if (pos.ok() && pos->has_value()) Publish(**pos);
}

absl::StatusOr<std::optional<int64_t>> CachingSyncStore::ApplyEvent(
    const SyncEvent& event, const std::vector<StateUpdate>& state, int64_t room_seq) {
  absl::MutexLock write(&write_mu_);
  ResyncIfUncertain();
  absl::StatusOr<std::optional<int64_t>> pos = inner_.ApplyEvent(event, state, room_seq);
  if (MayHaveCommitted(pos.status())) uncertain_ = true;
  SyncEvent stored = event;
  if (pos.ok() && pos->has_value()) {
    // Built once here (outside mu_), not once per client that reads it.
    if (absl::StatusOr<matrix::Json> client = ClientEvent(event, "", ""); client.ok()) {
      stored.client_json = std::make_shared<const std::string>(client->dump());
    }
  }
  {
    absl::MutexLock lock(&mu_);
    if (!pos.ok()) {
      // It may have committed all the same: forget what it could have changed.
      events_.Forget(event.room_id);
    } else if (pos->has_value()) {
      stored.pos = **pos;
      events_.Append(stored);
    }
    if (!pos.ok() || pos->has_value()) {
      // Every key the message changed (a merge can change several), and the event's own.
      std::vector<std::pair<std::string, std::string>> keys;
      for (const StateUpdate& update : state) keys.emplace_back(update.type, update.state_key);
      if (event.state_key) keys.emplace_back(event.type, *event.state_key);
      for (const auto& [type, state_key] : keys) {
        if (type == "m.room.member") {
          Drop(memberships_, state_key);
          Drop(joined_, event.room_id);
        }
        if (type == "m.room.history_visibility") Drop(visibility_, event.room_id);
      }
    }
  }
  if (pos.ok() && pos->has_value()) Publish(**pos);
  return pos;
}

absl::StatusOr<std::vector<SyncEvent>> CachingSyncStore::StateHistory(absl::string_view room_id,
                                                                      absl::string_view type,
                                                                      absl::string_view state_key) {
  if (type != "m.room.history_visibility" || !state_key.empty()) {
    return inner_.StateHistory(room_id, type, state_key);
  }
  return Cached(visibility_, std::string(room_id),
                [&] { return inner_.StateHistory(room_id, type, state_key); });
}

absl::StatusOr<bool> CachingSyncStore::StoreRedacted(absl::string_view room_id,
                                                     absl::string_view event_id,
                                                     absl::string_view redacted_json) {
  absl::MutexLock write(&write_mu_);
  absl::StatusOr<bool> stored = inner_.StoreRedacted(room_id, event_id, redacted_json);
  absl::MutexLock lock(&mu_);
  if (!stored.ok()) {
    events_.Forget(room_id);
  } else if (*stored) {
    events_.Redact(room_id, event_id, redacted_json);
  }
  return stored;
}

absl::StatusOr<std::vector<RoomMembership>> CachingSyncStore::MembershipsOf(
    absl::string_view user_id) {
  return Cached(memberships_, std::string(user_id), [&] { return inner_.MembershipsOf(user_id); });
}

absl::StatusOr<std::vector<std::string>> CachingSyncStore::JoinedUsers(absl::string_view room_id) {
  return Cached(joined_, std::string(room_id), [&] { return inner_.JoinedUsers(room_id); });
}

absl::StatusOr<std::vector<SyncEvent>> CachingSyncStore::RecentEvents(absl::string_view room_id,
                                                                      int64_t from, int64_t to,
                                                                      int limit, bool* limited) {
  {
    absl::MutexLock lock(&mu_);
    if (auto cached = events_.Recent(room_id, from, to, limit, limited)) return *std::move(cached);
  }
  return inner_.RecentEvents(room_id, from, to, limit, limited);
}

absl::StatusOr<std::vector<std::string>> CachingSyncStore::ActiveRoomsOf(absl::string_view user_id,
                                                                         int64_t from, int64_t to) {
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<RoomMembership> memberships, MembershipsOf(user_id));
  std::vector<std::string> active;
  {
    absl::MutexLock lock(&mu_);
    bool known = true;
    for (const RoomMembership& m : memberships) {
      std::optional<bool> has = events_.HasEventsIn(m.room_id, from, to);
      if (!has) {
        known = false;
        break;
      }
      if (*has) active.push_back(m.room_id);
    }
    if (known) return active;
  }
  return inner_.ActiveRoomsOf(user_id, from, to);
}

absl::StatusOr<int64_t> CachingSyncStore::PutAccountData(absl::string_view user_id,
                                                         absl::string_view room_id,
                                                         absl::string_view type,
                                                         absl::string_view content_json) {
  absl::MutexLock write(&write_mu_);
  ResyncIfUncertain();
  absl::StatusOr<int64_t> pos = inner_.PutAccountData(user_id, room_id, type, content_json);
  if (MayHaveCommitted(pos.status())) uncertain_ = true;
  AccountDataWritten(user_id, pos);
  return pos;
}

absl::StatusOr<int64_t> CachingSyncStore::ModifyAccountData(absl::string_view user_id,
                                                            absl::string_view room_id,
                                                            absl::string_view type,
                                                            const AccountDataModifier& modify) {
  absl::MutexLock write(&write_mu_);
  ResyncIfUncertain();
  absl::StatusOr<int64_t> pos = inner_.ModifyAccountData(user_id, room_id, type, modify);
  if (MayHaveCommitted(pos.status())) uncertain_ = true;
  AccountDataWritten(user_id, pos);
  return pos;
}

absl::StatusOr<std::vector<AccountDataEntry>> CachingSyncStore::AccountDataChanges(
    absl::string_view user_id, int64_t from, int64_t to) {
  PERISCOPE_ASSIGN_OR_RETURN(
      std::vector<AccountDataEntry> all, Cached(account_data_, std::string(user_id), [&] {
        return inner_.AccountDataChanges(user_id, 0, std::numeric_limits<int64_t>::max());
      }));
  all.erase(std::remove_if(all.begin(), all.end(),
                           [&](const AccountDataEntry& e) { return e.pos <= from || e.pos > to; }),
            all.end());
  return all;
}

absl::StatusOr<std::optional<int64_t>> CachingSyncStore::StartPeek(absl::string_view room_id,
                                                                   absl::string_view user_id,
                                                                   absl::string_view device_id,
                                                                   int64_t expiry_ts,
                                                                   int64_t room_seq) {
  absl::MutexLock write(&write_mu_);
  ResyncIfUncertain();
  absl::StatusOr<std::optional<int64_t>> pos =
      inner_.StartPeek(room_id, user_id, device_id, expiry_ts, room_seq);
  if (MayHaveCommitted(pos.status())) uncertain_ = true;
  PeekWritten(room_id, user_id, device_id, pos);
  return pos;
}

absl::StatusOr<std::optional<int64_t>> CachingSyncStore::EndPeek(absl::string_view room_id,
                                                                 absl::string_view user_id,
                                                                 absl::string_view device_id,
                                                                 absl::string_view reason,
                                                                 int64_t room_seq) {
  absl::MutexLock write(&write_mu_);
  ResyncIfUncertain();
  absl::StatusOr<std::optional<int64_t>> pos =
      inner_.EndPeek(room_id, user_id, device_id, reason, room_seq);
  if (MayHaveCommitted(pos.status())) uncertain_ = true;
  PeekWritten(room_id, user_id, device_id, pos);
  return pos;
}

absl::StatusOr<std::vector<DevicePeek>> CachingSyncStore::PeeksOf(absl::string_view user_id,
                                                                  absl::string_view device_id) {
  return Cached(peeks_, DeviceKey(user_id, device_id),
                [&] { return inner_.PeeksOf(user_id, device_id); });
}

absl::StatusOr<std::vector<std::string>> CachingSyncStore::PeekingUsers(absl::string_view room_id) {
  return Cached(peekers_, std::string(room_id), [&] { return inner_.PeekingUsers(room_id); });
}

absl::Status CachingSyncStore::RenewPeeks(absl::string_view user_id, absl::string_view device_id,
                                          int64_t expiry_ts) {
  absl::Status renewed = inner_.RenewPeeks(user_id, device_id, expiry_ts);
  absl::MutexLock lock(&mu_);
  Drop(peeks_, DeviceKey(user_id, device_id));
  return renewed;
}

}  // namespace periscope::syncapi
