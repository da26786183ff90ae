#pragma once
// A SyncStore that answers the reads of a woken /sync from memory: the stream position, each
// user's memberships and account data, each device's peeks, each room's newest events and
// history-visibility changes, and the joined and peeking users the output consumer wakes. A
// thousand peekers woken by one event then cost no PostgreSQL query at all; everything else passes
// through to the wrapped store.
//
// Correctness rests on two rules:
//  - Every write of syncapi's tables goes through this object (syncapi is their only writer, and
//    runs as one process). A write commits, then updates the caches, then publishes its position
//    as MaxPosition, all under one lock, so a reader that saw position p sees every change at or
//    before p.
//  - Caches other than room events are filled on a read and dropped on a write. A fill carries the
//    generation it started at and is kept only if no write happened meanwhile, so a read that
//    raced a write never caches what the write replaced.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "internal/syncapi/storage/room_event_cache.h"
#include "internal/syncapi/storage/sync_store.h"

namespace periscope::syncapi {

struct SyncCacheLimits {
  // Rooms whose newest events are kept, and how many events of each (a fresh room with the
  // default timeline limit of 10 needs 11).
  size_t rooms = 1024;
  size_t events_per_room = 64;
  // Users and devices whose memberships, account data and peeks are kept; past this the caches
  // start again empty.
  size_t users = 65536;
  // Memory budgets, counted in bytes of what is cached: the rooms' events, and everything keyed
  // by user, device or room (memberships, account data, peeks, joined and peeking users,
  // visibility). Past the second, those caches start again empty.
  size_t event_bytes = size_t{128} << 20;
  size_t keyed_bytes = size_t{64} << 20;
};

class CachingSyncStore final : public SyncStore {
 public:
  static absl::StatusOr<std::unique_ptr<CachingSyncStore>> Create(SyncStore& inner,
                                                                  SyncCacheLimits limits = {});

  absl::StatusOr<std::optional<int64_t>> ApplyEvent(const SyncEvent& event,
                                                    const std::vector<StateUpdate>& state,
                                                    int64_t room_seq) override;
  absl::StatusOr<bool> StoreRedacted(absl::string_view room_id, absl::string_view event_id,
                                     absl::string_view redacted_json) override;
  // Under the write lock, after publishing any uncertain write's position: a sequence read here
  // is never ahead of what MaxPosition lets a reader see.
  absl::StatusOr<int64_t> AppliedRoomSequence(absl::string_view room_id) override {
    absl::MutexLock write(&write_mu_);
    ResyncIfUncertain();
    return inner_.AppliedRoomSequence(room_id);
  }
  absl::StatusOr<bool> AdvanceRoomSequence(absl::string_view room_id, int64_t room_seq) override {
    absl::MutexLock write(&write_mu_);
    return inner_.AdvanceRoomSequence(room_id, room_seq);
  }
  absl::StatusOr<std::optional<SyncEvent>> EventInRoom(absl::string_view room_id,
                                                       absl::string_view event_id) override {
    return inner_.EventInRoom(room_id, event_id);
  }
  absl::StatusOr<int64_t> MaxPosition() override { return max_pos_.load(); }
  absl::StatusOr<std::vector<RoomMembership>> MembershipsOf(absl::string_view user_id) override;
  absl::StatusOr<std::vector<std::string>> JoinedUsers(absl::string_view room_id) override;
  absl::StatusOr<std::vector<SyncEvent>> CurrentState(absl::string_view room_id) override {
    return inner_.CurrentState(room_id);
  }
  absl::StatusOr<std::vector<SyncEvent>> StateAt(absl::string_view room_id, int64_t pos) override {
    return inner_.StateAt(room_id, pos);
  }
  absl::StatusOr<std::vector<SyncEvent>> StateHistory(absl::string_view room_id,
                                                      absl::string_view type,
                                                      absl::string_view state_key) override;
  absl::StatusOr<std::vector<SyncEvent>> RecentEvents(absl::string_view room_id, int64_t from,
                                                      int64_t to, int limit,
                                                      bool* limited) override;
  absl::StatusOr<std::vector<SyncEvent>> EventsPage(absl::string_view room_id, int64_t from,
                                                    int64_t to, bool backwards,
                                                    int limit) override {
    return inner_.EventsPage(room_id, from, to, backwards, limit);
  }
  absl::StatusOr<RoomMembership> MembershipIn(absl::string_view room_id,
                                              absl::string_view user_id) override {
    return inner_.MembershipIn(room_id, user_id);
  }
  absl::StatusOr<std::vector<std::string>> ActiveRoomsOf(absl::string_view user_id, int64_t from,
                                                         int64_t to) override;
  absl::StatusOr<int64_t> PutAccountData(absl::string_view user_id, absl::string_view room_id,
                                         absl::string_view type,
                                         absl::string_view content_json) override;
  absl::StatusOr<int64_t> ModifyAccountData(absl::string_view user_id, absl::string_view room_id,
                                            absl::string_view type,
                                            const AccountDataModifier& modify) override;
  absl::StatusOr<std::optional<std::string>> AccountData(absl::string_view user_id,
                                                         absl::string_view room_id,
                                                         absl::string_view type) override {
    return inner_.AccountData(user_id, room_id, type);
  }
  absl::StatusOr<std::optional<int64_t>> StartPeek(absl::string_view room_id,
                                                   absl::string_view user_id,
                                                   absl::string_view device_id, int64_t expiry_ts,
                                                   int64_t room_seq) override;
  absl::StatusOr<std::optional<int64_t>> EndPeek(absl::string_view room_id,
                                                 absl::string_view user_id,
                                                 absl::string_view device_id,
                                                 absl::string_view reason,
                                                 int64_t room_seq) override;
  absl::StatusOr<std::vector<DevicePeek>> PeeksOf(absl::string_view user_id,
                                                  absl::string_view device_id) override;
  absl::StatusOr<std::vector<std::string>> PeekingUsers(absl::string_view room_id) override;
  absl::Status RenewPeeks(absl::string_view user_id, absl::string_view device_id,
                          int64_t expiry_ts) override;
  absl::StatusOr<std::vector<std::array<std::string, 3>>> LapsedPeeks(int64_t now_ts) override {
    return inner_.LapsedPeeks(now_ts);
  }
  absl::StatusOr<int64_t> LivePeekCount() override { return inner_.LivePeekCount(); }
  absl::StatusOr<std::vector<AccountDataEntry>> AccountDataChanges(absl::string_view user_id,
                                                                   int64_t from,
                                                                   int64_t to) override;

 private:
  CachingSyncStore(SyncStore& inner, SyncCacheLimits limits, int64_t max_pos);

  // Cache-or-fill for one of the keyed caches below.
  template <typename Value, typename Load>
  absl::StatusOr<Value> Cached(absl::flat_hash_map<std::string, Value>& cache,
                               const std::string& key, const Load& load);
  // Empties every keyed cache (over the byte budget).
  void ClearKeyedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops `key` from `cache` after a write (and fails any fill in flight).
  template <typename Value>
  void Drop(absl::flat_hash_map<std::string, Value>& cache, absl::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a write (whatever its outcome, which may be a commit whose answer was lost): drops what
  // it may have changed and publishes its position.
  void AccountDataWritten(absl::string_view user_id, const absl::StatusOr<int64_t>& pos)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void PeekWritten(absl::string_view room_id, absl::string_view user_id,
                   absl::string_view device_id, const absl::StatusOr<std::optional<int64_t>>& pos)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Publishes a committed position (under write_mu_, so in position order).
  void Publish(int64_t pos) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // A failed write may have committed all the same (a COMMIT whose answer was lost), and its
  // retry then finds it done and publishes nothing. So after a failure the next write first
  // publishes the database's own newest position: no committed change stays invisible.
  void ResyncIfUncertain() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  static bool MayHaveCommitted(const absl::Status& status);

  SyncStore& inner_;
  const SyncCacheLimits limits_;
  std::atomic<int64_t> max_pos_;
  // Held across each write, from its commit to its Publish.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  bool uncertain_ ABSL_GUARDED_BY(write_mu_) = false;
  absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  // What the keyed caches below hold, counted as in CachedBytes.
  size_t keyed_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  RoomEventCache events_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<RoomMembership>> memberships_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<AccountDataEntry>> account_data_
      ABSL_GUARDED_BY(mu_);
  // Keyed by user id + '\n' + device id.
  absl::flat_hash_map<std::string, std::vector<DevicePeek>> peeks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::string>> joined_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<std::string>> peekers_ ABSL_GUARDED_BY(mu_);
  // Each room's history-visibility changes, which every client read of the room consults.
  absl::flat_hash_map<std::string, std::vector<SyncEvent>> visibility_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::syncapi
