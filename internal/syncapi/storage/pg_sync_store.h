#pragma once
// SyncStore on PostgreSQL (tables syncapi_*).

#include <vector>

#include "internal/syncapi/storage/sync_store.h"
#include "pkg/pg/migrations.h"
#include "pkg/pg/pg.h"

namespace periscope::syncapi {

// The syncapi's schema migrations (component "syncapi").
const std::vector<pg::Migration>& SyncApiMigrations();

class PgSyncStore final : public SyncStore {
 public:
  explicit PgSyncStore(pg::Pool& pool) : pool_(pool) {}

  absl::StatusOr<std::optional<int64_t>> ApplyEvent(const SyncEvent& event,
                                                    const std::vector<StateUpdate>& state,
                                                    int64_t room_seq) override;
  absl::StatusOr<int64_t> AppliedRoomSequence(absl::string_view room_id) override;
  absl::StatusOr<bool> AdvanceRoomSequence(absl::string_view room_id, int64_t room_seq) override;
  absl::StatusOr<bool> StoreRedacted(absl::string_view room_id, absl::string_view event_id,
                                     absl::string_view redacted_json) override;
  absl::StatusOr<std::optional<SyncEvent>> EventInRoom(absl::string_view room_id,
                                                       absl::string_view event_id) override;
  absl::StatusOr<int64_t> MaxPosition() override;
  absl::StatusOr<std::vector<RoomMembership>> MembershipsOf(absl::string_view user_id) override;
  absl::StatusOr<std::vector<std::string>> JoinedUsers(absl::string_view room_id) override;
  absl::StatusOr<std::vector<SyncEvent>> CurrentState(absl::string_view room_id) override;
  absl::StatusOr<std::vector<SyncEvent>> StateAt(absl::string_view room_id, int64_t pos) override;
  absl::StatusOr<std::vector<SyncEvent>> StateHistory(absl::string_view room_id,
                                                      absl::string_view type,
                                                      absl::string_view state_key) override;
  absl::StatusOr<std::vector<SyncEvent>> RecentEvents(absl::string_view room_id, int64_t from,
                                                      int64_t to, int limit,
                                                      bool* limited) override;
  absl::StatusOr<std::vector<SyncEvent>> EventsPage(absl::string_view room_id, int64_t from,
                                                    int64_t to, bool backwards, int limit) override;
  absl::StatusOr<RoomMembership> MembershipIn(absl::string_view room_id,
                                              absl::string_view user_id) override;
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
                                                         absl::string_view type) override;
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
  absl::StatusOr<std::vector<std::array<std::string, 3>>> LapsedPeeks(int64_t now_ts) override;
  absl::StatusOr<int64_t> LivePeekCount() override;
  absl::StatusOr<std::vector<AccountDataEntry>> AccountDataChanges(absl::string_view user_id,
                                                                   int64_t from,
                                                                   int64_t to) override;

 private:
  pg::Pool& pool_;
};

}  // namespace periscope::syncapi
