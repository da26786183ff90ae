#include "internal/roomserver/storage/pg_state_group_store.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/pg/array.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

constexpr pg::Statement kGroupHops{
    "roomserver_state_group_hops",
    "SELECT hops FROM roomserver_state_groups WHERE state_group = $1 AND room_id = $2"};

// The group's chain of deltas down to its snapshot, and for each key the entry of the newest
// group on the chain that has one. A group's delta base always has a smaller id, so "newest" is
// "largest id". A NULL event_nid is a removed key: the inner join drops it.
constexpr pg::Statement kGroupState{
    "roomserver_state_group_state",
    "WITH RECURSIVE chain(state_group, prev_group) AS ("
    " SELECT state_group, prev_group FROM roomserver_state_groups WHERE state_group = $1"
    " UNION ALL"
    " SELECT g.state_group, g.prev_group FROM roomserver_state_groups g"
    " JOIN chain c ON g.state_group = c.prev_group) "
    "SELECT s.event_type, s.state_key, e.event_id FROM ("
    " SELECT DISTINCT ON (x.event_type, x.state_key) x.event_type, x.state_key, x.event_nid"
    " FROM roomserver_state_group_entries x JOIN chain USING (state_group)"
    " ORDER BY x.event_type, x.state_key, x.state_group DESC) s "
    "JOIN roomserver_events e ON e.event_nid = s.event_nid"};

constexpr pg::Statement kInsertGroup{
    "roomserver_insert_state_group",
    "INSERT INTO roomserver_state_groups (room_id, prev_group, hops) VALUES ($1, NULLIF($2, 0), "
    "COALESCE((SELECT hops + 1 FROM roomserver_state_groups WHERE state_group = $2), 0)) "
    "RETURNING state_group"};

constexpr pg::Statement kInsertEntries{
    "roomserver_insert_state_entries",
    "INSERT INTO roomserver_state_group_entries (state_group, event_type, state_key, event_nid) "
    "SELECT $1, d.event_type, d.state_key, e.event_nid FROM "
    "unnest($2::text[], $3::text[], $4::text[]) AS d(event_type, state_key, event_id) "
    "JOIN roomserver_events e ON e.event_id = d.event_id"};

constexpr pg::Statement kInsertRemovals{
    "roomserver_insert_state_removals",
    "INSERT INTO roomserver_state_group_entries (state_group, event_type, state_key, event_nid) "
    "SELECT $1, d.event_type, d.state_key, NULL FROM "
    "unnest($2::text[], $3::text[]) AS d(event_type, state_key)"};

}  // namespace

absl::StatusOr<int> PgStateGroupStore::Hops(int64_t group) {
  if (group == kEmptyStateGroup) return 0;
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, conn_.Query(kGroupHops, {group, room_id_}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("no state group ", group, " in room ", room_id_));
  }
  return static_cast<int>(r.Int(0, 0));
}

absl::StatusOr<matrix::StateMap> PgStateGroupStore::LoadState(int64_t group) {
  matrix::StateMap state;
  if (group == kEmptyStateGroup) return state;
  PERISCOPE_RETURN_IF_ERROR(Hops(group).status());  // NOT_FOUND rather than an empty state
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, conn_.Query(kGroupState, {group}));
  for (int i = 0; i < r.rows(); ++i) {
    state.emplace(matrix::StateKey(r.Text(i, 0), r.Text(i, 1)), std::string(r.Text(i, 2)));
  }
  return state;
}

absl::StatusOr<int64_t> PgStateGroupStore::StoreGroup(int64_t prev, const StateDelta& delta) {
  PERISCOPE_ASSIGN_OR_RETURN(pg::Result r, conn_.Query(kInsertGroup, {room_id_, prev}));
  const int64_t group = r.Int(0, 0);
  std::vector<std::string> types, keys, ids, removed_types, removed_keys;
  for (const auto& [key, id] : delta) {
    if (id) {
      types.push_back(key.first);
      keys.push_back(key.second);
      ids.push_back(*id);
    } else if (prev != kEmptyStateGroup) {
      removed_types.push_back(key.first);
      removed_keys.push_back(key.second);
    }
  }
  if (!ids.empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(
        pg::Result inserted,
        conn_.Query(kInsertEntries, {group, pg::ArrayLiteral(types), pg::ArrayLiteral(keys),
                                     pg::ArrayLiteral(ids)}));
    if (inserted.affected() != static_cast<int64_t>(ids.size())) {
      return absl::FailedPreconditionError(absl::StrCat("a state group of room ", room_id_,
                                                        " names ", ids.size() - inserted.affected(),
                                                        " event(s) the roomserver has not stored"));
    }
  }
  if (!removed_types.empty()) {
    PERISCOPE_RETURN_IF_ERROR(conn_
                                  .Query(kInsertRemovals, {group, pg::ArrayLiteral(removed_types),
                                                           pg::ArrayLiteral(removed_keys)})
                                  .status());
  }
  return group;
}

}  // namespace periscope::roomserver
