#pragma once
// StateGroupStore on PostgreSQL (roomserver_state_groups, roomserver_state_group_entries), on the
// connection of a room's write transaction.

#include <string>

#include "internal/roomserver/storage/state_group_store.h"
#include "pkg/pg/pg.h"

namespace periscope::roomserver {

class PgStateGroupStore final : public StateGroupStore {
 public:
  PgStateGroupStore(pg::Connection& conn, std::string room_id)
      : conn_(conn), room_id_(std::move(room_id)) {}

  absl::StatusOr<matrix::StateMap> LoadState(int64_t group) override;
  absl::StatusOr<int> Hops(int64_t group) override;
  absl::StatusOr<int64_t> StoreGroup(int64_t prev, const StateDelta& delta) override;

 private:
  pg::Connection& conn_;
  std::string room_id_;
};

}  // namespace periscope::roomserver
