#pragma once
// RoomStore on PostgreSQL (tables roomserver_*).

#include <vector>

#include "internal/roomserver/storage/room_store.h"
#include "internal/roomserver/storage/room_write_queue.h"
#include "pkg/pg/migrations.h"
#include "pkg/pg/pg.h"

namespace periscope::roomserver {

// The roomserver's schema migrations (component "roomserver").
const std::vector<pg::Migration>& RoomserverMigrations();

class PgRoomStore final : public RoomStore {
 public:
  explicit PgRoomStore(pg::Pool& pool) : pool_(pool), write_queue_(kMaxWriteBatch) {}

  absl::Status CreateRoom(absl::string_view room_id, int room_version, int64_t now_ms,
                          const WriteBody& body) override;
  absl::Status Write(absl::string_view room_id, const WriteBody& body) override;
  // Writes of the room waiting for their turn behind a running batch (for tests).
  size_t WritesWaiting(absl::string_view room_id) { return write_queue_.Waiting(room_id); }
  absl::StatusOr<std::optional<std::string>> TransactionEventId(absl::string_view user_id,
                                                                absl::string_view device_id,
                                                                absl::string_view txn_id) override;
  absl::StatusOr<std::vector<OutboxEntry>> PendingOutput(const std::vector<std::string>& skip,
                                                         int limit) override;
  absl::Status MarkOutputPublished(const std::vector<int64_t>& positions) override;
  absl::StatusOr<OutboxDepth> Depth() override;
  void SetOutputListener(std::function<void()> listener) override;
  absl::StatusOr<std::optional<int>> RoomVersion(absl::string_view room_id) override;
  absl::StatusOr<int64_t> OutputSequence(absl::string_view room_id) override;
  absl::StatusOr<matrix::StateMap> StateOfGroup(absl::string_view room_id, int64_t group) override;
  absl::StatusOr<matrix::StateMap> StateAtEvent(absl::string_view room_id,
                                                absl::string_view event_id, bool after) override;
  absl::StatusOr<std::vector<EventRecord>> CurrentState(
      absl::string_view room_id, const std::vector<matrix::StateKey>& keys) override;
  absl::StatusOr<std::vector<EventRecord>> EventsById(
      const std::vector<std::string>& event_ids) override;
  absl::StatusOr<MembershipRecord> Membership(absl::string_view room_id,
                                              absl::string_view user_id) override;
  absl::StatusOr<std::vector<std::string>> JoinedRooms(absl::string_view user_id) override;
  absl::StatusOr<bool> HasJoinedMemberOf(absl::string_view room_id,
                                         absl::string_view server_name) override;
  absl::StatusOr<bool> ReplaceVersionOfStatelessRoom(absl::string_view room_id,
                                                     int version) override;
  absl::StatusOr<std::vector<EventRecord>> InvitesOf(absl::string_view room_id,
                                                     absl::string_view user_id) override;
  absl::StatusOr<std::optional<std::string>> ResolveAlias(absl::string_view alias) override;
  absl::StatusOr<std::optional<AliasRecord>> Alias(absl::string_view alias) override;
  absl::Status SetAlias(absl::string_view alias, absl::string_view room_id,
                        absl::string_view creator) override;
  absl::Status RemoveAlias(absl::string_view alias) override;
  absl::Status SetPublished(absl::string_view room_id, bool published) override;
  absl::StatusOr<std::optional<bool>> Published(absl::string_view room_id) override;
  absl::StatusOr<std::vector<std::string>> PublishedRooms() override;
  absl::StatusOr<std::vector<LocalPeek>> LocalPeeks(absl::string_view room_id) override;

 private:
  using WriteQueue = RoomWriteQueue<WriteBody>;
  // Writes to one room in one transaction at most (each write's share of a flush). Each write is
  // a savepoint, a subtransaction with its own id: PostgreSQL keeps 64 of a transaction's in each
  // backend's cache (PGPROC_MAX_CACHED_SUBXIDS), and past that every snapshot, server-wide, reads
  // pg_subtrans. Do not raise it.
  static constexpr size_t kMaxWriteBatch = 64;

  // Tells the listener about a transaction that queued output; returns `status`.
  absl::Status AfterCommit(absl::Status status, bool queued_output);
  // One transaction under the room's lock for a batch of writes (RoomWriteQueue), each in its own
  // savepoint when there are several: a refused write rolls back only itself.
  void WriteBatch(absl::string_view room_id, absl::Span<WriteQueue::Write* const> batch);

  pg::Pool& pool_;
  std::function<void()> output_listener_;
  WriteQueue write_queue_;
};

}  // namespace periscope::roomserver
