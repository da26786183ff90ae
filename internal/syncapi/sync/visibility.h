#pragma once
// Who may see which of a room's events: the client-server spec's history visibility algorithm,
// applied by syncapi to everything it returns to a client (/sync timelines, /messages, /context,
// /event, peeks).
//
// The visibility and the user's membership "at an event" are the latest such state events before
// it in syncapi's stream order, which is the roomserver's order of acceptance. For an event that
// changes either, the more permissive of before and after applies (as Synapse does), so a user
// sees their own join and the setting that hid what follows. A user always sees their own
// membership events, so a rejected invite or a ban still shows up in their /sync.
//
// For a room event e and a user u (spec algorithm):
//   1. world_readable at e: visible;
//   2. u's membership at e is join: visible;
//   3. shared at e and u joins at some point after e: visible;
//   4. invited at e and u's membership at e is invite: visible;
//   5. otherwise hidden.
// A non-member looking in (a peeking device) sees only rule 1.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "internal/syncapi/storage/sync_store.h"
#include "pkg/matrix/history_visibility.h"

namespace periscope::syncapi {

class RoomVisibility {
 public:
  // What `user_id` may see of the room.
  static absl::StatusOr<RoomVisibility> ForUser(SyncStore& store, absl::string_view room_id,
                                                absl::string_view user_id);
  // What a non-member looking in (a peek) may see: world_readable history only.
  static absl::StatusOr<RoomVisibility> ForNonMember(SyncStore& store, absl::string_view room_id);

  bool MaySee(const SyncEvent& event) const;
  // The events `MaySee` allows, in their order.
  std::vector<SyncEvent> Filter(std::vector<SyncEvent> events) const;

  // The room's visibility after everything syncapi has (shared if never set).
  matrix::HistoryVisibility Now() const;
  // Whether the user has ever had a membership event in the room.
  bool EverMember() const { return !membership_.empty(); }
  // Whether the user was ever joined to the room.
  bool EverJoined() const;
  // The user's latest membership and its position (kNone and 0 if none).
  matrix::MembershipState MembershipNow() const {
    return membership_.empty() ? matrix::MembershipState::kNone : membership_.back().second;
  }
  int64_t MembershipNowPos() const { return membership_.empty() ? 0 : membership_.back().first; }

 private:
  RoomVisibility(std::string user_id, bool non_member)
      : user_id_(std::move(user_id)), non_member_(non_member) {}
  static absl::StatusOr<std::vector<std::pair<int64_t, matrix::HistoryVisibility>>> LoadVisibility(
      SyncStore& store, absl::string_view room_id);
  // The visibility in force at the event at `pos` (before it; for an event that changes it, the
  // more permissive of before and after).
  matrix::HistoryVisibility VisibilityAt(int64_t pos) const;

  std::string user_id_;
  bool non_member_;
  std::vector<std::pair<int64_t, matrix::HistoryVisibility>> visibility_;
  std::vector<std::pair<int64_t, matrix::MembershipState>> membership_;
};

// What `user_id` may read of the room, for reads outside /sync (/messages, /context, /event,
// /state): 403 M_FORBIDDEN if they never had a membership in it and it is not world_readable now,
// whether or not the room exists, so that outsiders learn nothing.
absl::StatusOr<RoomVisibility> ReadableBy(SyncStore& store, absl::string_view room_id,
                                          absl::string_view user_id);

// The room's event `event_id` if `view` lets its reader see it; 404 M_NOT_FOUND otherwise, the
// same answer as for an event that does not exist.
absl::StatusOr<SyncEvent> VisibleEvent(SyncStore& store, const RoomVisibility& view,
                                       absl::string_view room_id, absl::string_view event_id);

}  // namespace periscope::syncapi
