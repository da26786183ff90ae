#include "internal/roomserver/perform/restricted_join.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

// As the auth rules read a join rule (rule 4.3.5).
bool IsRestricted(absl::string_view rule, int version) {
  return (rule == "restricted" && version >= 8) || (rule == "knock_restricted" && version >= 10);
}

// Adds the room's current state events under `keys` (all of them if empty) to `state`.
absl::Status ReadCurrentState(RoomStore& store, absl::string_view room_id,
                              const std::vector<matrix::StateKey>& keys,
                              matrix::AuthEvents& state) {
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<EventRecord> records, store.CurrentState(room_id, keys));
  for (const EventRecord& record : records) {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json event, matrix::ParseJson(record.event_json));
    PERISCOPE_RETURN_IF_ERROR(state.Put(record.event_id, std::move(event)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<std::string>> RestrictedJoinAuthoriser(RoomStore& store,
                                                                    absl::string_view room_id,
                                                                    absl::string_view user_id,
                                                                    absl::string_view our_server) {
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store.RoomVersion(room_id));
  if (!version) return std::nullopt;  // an unknown room: the caller's to refuse
  // The join rule and the user's membership first: most joins stop here, reading two rows.
  matrix::AuthEvents state;
  PERISCOPE_RETURN_IF_ERROR(ReadCurrentState(
      store, room_id, {{"m.room.join_rules", ""}, {"m.room.member", std::string(user_id)}}, state));
  const matrix::Json* rules = state.Get("m.room.join_rules", "");
  const matrix::Json content = rules ? matrix::ContentOf(*rules) : matrix::Json::object();
  if (!IsRestricted(matrix::StringField(content, "join_rule"), *version)) return std::nullopt;
  const std::string current = state.MembershipOf(user_id);
  if (current == "join" || current == "invite") return std::nullopt;

  // Joined to one of the allowed rooms. Only rooms this server is in tell: what it knows of a room
  // it left may be stale (a user banned there since).
  bool allowed = false;
  bool a_room_we_are_not_in = false;
  const matrix::Json& allow = matrix::JsonField(content, "allow");
  for (const matrix::Json& entry : allow.is_array() ? allow : matrix::Json::array()) {
    if (matrix::StringField(entry, "type") != "m.room_membership") continue;
    const std::string other = matrix::StringField(entry, "room_id");
    if (other.empty() || other == room_id) continue;
    PERISCOPE_ASSIGN_OR_RETURN(bool in_other, store.HasJoinedMemberOf(other, our_server));
    if (!in_other) {
      a_room_we_are_not_in = true;
      continue;
    }
    PERISCOPE_ASSIGN_OR_RETURN(MembershipRecord member, store.Membership(other, user_id));
    if (member.membership == "join") {
      allowed = true;
      break;
    }
  }
  // A user of another server may be in an allowed room this server is not in: it cannot tell, and
  // says so, so that the joining server asks another (as Synapse). Of our own users, it knows.
  absl::StatusOr<matrix::SigilId> user = matrix::ParseSigilId(user_id, '@');
  const bool ours = user.ok() && user->server_name == our_server;
  if (!allowed && a_room_we_are_not_in && !ours) {
    return MatrixError(absl::StatusCode::kInvalidArgument, kUnableToAuthoriseJoin,
                       "This server is not in all of the rooms that give access to this room, "
                       "and cannot tell whether you are: ask another server");
  }
  if (!allowed) {
    return MatrixError(
        absl::StatusCode::kPermissionDenied, matrix::errcode::kForbidden,
        absl::StrCat("You are not joined to any of the rooms that give access to ", room_id));
  }

  // Who of ours may vouch: the whole state (levels, the create event for a version 12 room's
  // creators, our members), read only now.
  PERISCOPE_RETURN_IF_ERROR(ReadCurrentState(store, room_id, {}, state));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::PowerLevels levels, matrix::PowerLevelsIn(state, *version));
  std::vector<std::pair<int64_t, std::string>> candidates;
  for (const auto& [key, entry] : state.entries()) {
    if (key.first != "m.room.member") continue;
    absl::StatusOr<matrix::SigilId> member = matrix::ParseSigilId(key.second, '@');
    if (!member.ok() || member->server_name != our_server) continue;
    if (matrix::StringField(matrix::ContentOf(entry.event), "membership") != "join") continue;
    const int64_t level = levels.UserLevel(key.second);
    if (level >= levels.invite) candidates.emplace_back(-level, key.second);
  }
  if (candidates.empty()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, kUnableToGrantJoin,
                       "None of this server's users in the room may invite: ask another server");
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates.front().second;
}

}  // namespace periscope::roomserver
