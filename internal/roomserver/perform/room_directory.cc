#include "internal/roomserver/perform/room_directory.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/power_levels.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

namespace errcode = matrix::errcode;

absl::Status Forbidden(absl::string_view message) {
  return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden, message);
}

absl::Status UnknownRoom(absl::string_view room_id) {
  return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                     absl::StrCat("Unknown room ", room_id));
}

constexpr int kDefaultPublicRoomsLimit = 100;

}  // namespace

absl::Status RoomDirectory::CheckLocalAlias(absl::string_view alias) {
  PERISCOPE_ASSIGN_OR_RETURN(matrix::SigilId id, matrix::ParseSigilId(alias, '#'));
  if (id.server_name != server_name_) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       absl::StrCat("Aliases on ", id.server_name, " are not managed here"));
  }
  return absl::OkStatus();
}

absl::Status RoomDirectory::CheckMayEditDirectory(absl::string_view user_id,
                                                  absl::string_view room_id) {
  PERISCOPE_ASSIGN_OR_RETURN(
      std::vector<EventRecord> records,
      store_.CurrentState(room_id, {{"m.room.create", ""},
                                    {"m.room.power_levels", ""},
                                    {"m.room.member", std::string(user_id)}}));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(room_id));
  if (!version) return UnknownRoom(room_id);
  matrix::AuthEvents state;
  for (const EventRecord& record : records) {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json event, matrix::ParseJson(record.event_json));
    PERISCOPE_RETURN_IF_ERROR(state.Add(record.event_id, std::move(event)));
  }
  if (state.MembershipOf(user_id) != "join") {
    return Forbidden(absl::StrCat(user_id, " is not in room ", room_id));
  }
  PERISCOPE_ASSIGN_OR_RETURN(matrix::PowerLevels levels, matrix::PowerLevelsIn(state, *version));
  const int64_t needed = levels.EventLevel("m.room.canonical_alias", true);
  if (levels.UserLevel(user_id) < needed) {
    return Forbidden(absl::StrCat("Changing the room directory needs power level ", needed));
  }
  return absl::OkStatus();
}

absl::Status RoomDirectory::SetAlias(const v1::PerformSetAliasRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(CheckLocalAlias(request.alias()));
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(request.room_id()));
  if (!version) return UnknownRoom(request.room_id());
  return store_.SetAlias(request.alias(), request.room_id(), request.user_id());
}

absl::Status RoomDirectory::RemoveAlias(const v1::PerformRemoveAliasRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(CheckLocalAlias(request.alias()));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<AliasRecord> alias, store_.Alias(request.alias()));
  if (!alias) {
    return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                       absl::StrCat("Room alias ", request.alias(), " not found"));
  }
  if (alias->creator != request.user_id()) {
    PERISCOPE_RETURN_IF_ERROR(CheckMayEditDirectory(request.user_id(), alias->room_id));
  }
  return store_.RemoveAlias(request.alias());
}

absl::StatusOr<v1::QueryAliasResponse> RoomDirectory::QueryAlias(
    const v1::QueryAliasRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomAlias(request.alias()));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<AliasRecord> alias, store_.Alias(request.alias()));
  if (!alias) {
    return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                       absl::StrCat("Room alias ", request.alias(), " not found"));
  }
  v1::QueryAliasResponse response;
  response.set_room_id(alias->room_id);
  response.add_servers(server_name_);
  return response;
}

absl::Status RoomDirectory::SetVisibility(const v1::PerformSetVisibilityRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  if (request.visibility() == v1::ROOM_VISIBILITY_UNSPECIFIED) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       "visibility must be public or private");
  }
  PERISCOPE_RETURN_IF_ERROR(CheckMayEditDirectory(request.user_id(), request.room_id()));
  return store_.SetPublished(request.room_id(), request.visibility() == v1::ROOM_VISIBILITY_PUBLIC);
}

absl::StatusOr<v1::QueryVisibilityResponse> RoomDirectory::QueryVisibility(
    const v1::QueryVisibilityRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<bool> published, store_.Published(request.room_id()));
  if (!published) return UnknownRoom(request.room_id());
  v1::QueryVisibilityResponse response;
  response.set_visibility(*published ? v1::ROOM_VISIBILITY_PUBLIC : v1::ROOM_VISIBILITY_PRIVATE);
  return response;
}

absl::StatusOr<v1::QueryPublicRoomsResponse> RoomDirectory::PublicRooms(
    const v1::QueryPublicRoomsRequest& request) {
  int limit = request.limit() > 0 ? std::min(request.limit(), 500) : kDefaultPublicRoomsLimit;
  int64_t offset = 0;
  if (!request.since().empty() && (!absl::SimpleAtoi(request.since(), &offset) || offset < 0)) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       "since is not a token from this server");
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<std::string> rooms, store_.PublishedRooms());
  v1::QueryPublicRoomsResponse response;
  std::string term = absl::AsciiStrToLower(request.filter_term());
  std::vector<v1::PublicRoom> listed;
  for (const std::string& room_id : rooms) {
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<EventRecord> state, store_.CurrentState(room_id, {}));
    v1::PublicRoom room;
    room.set_room_id(room_id);
    int64_t joined = 0;
    for (const EventRecord& record : state) {
      absl::StatusOr<matrix::Json> event = matrix::ParseJson(record.event_json);
      if (!event.ok()) continue;
      const std::string type = matrix::StringField(*event, "type");
      const matrix::Json& content = matrix::ContentOf(*event);
      if (type == "m.room.member" && matrix::StringField(content, "membership") == "join") ++joined;
      if (type == "m.room.name") room.set_name(matrix::StringField(content, "name"));
      if (type == "m.room.topic") room.set_topic(matrix::StringField(content, "topic"));
      if (type == "m.room.avatar") room.set_avatar_url(matrix::StringField(content, "url"));
      if (type == "m.room.canonical_alias") {
        room.set_canonical_alias(matrix::StringField(content, "alias"));
      }
      if (type == "m.room.join_rules")
        room.set_join_rule(matrix::StringField(content, "join_rule"));
      if (type == "m.room.history_visibility") {
        room.set_world_readable(matrix::StringField(content, "history_visibility") ==
                                "world_readable");
      }
      if (type == "m.room.guest_access") {
        room.set_guest_can_join(matrix::StringField(content, "guest_access") == "can_join");
      }
    }
    room.set_num_joined_members(joined);
    if (!term.empty()) {
      std::string haystack = absl::AsciiStrToLower(
          absl::StrCat(room.name(), " ", room.topic(), " ", room.canonical_alias()));
      if (!absl::StrContains(haystack, term)) continue;
    }
    listed.push_back(std::move(room));
  }
  // Biggest rooms first, then by id, so that pages are stable.
  std::sort(listed.begin(), listed.end(), [](const v1::PublicRoom& a, const v1::PublicRoom& b) {
    return a.num_joined_members() != b.num_joined_members()
               ? a.num_joined_members() > b.num_joined_members()
               : a.room_id() < b.room_id();
  });
  response.set_total_room_count_estimate(static_cast<int64_t>(listed.size()));
  for (int64_t i = offset; i < static_cast<int64_t>(listed.size()) && i < offset + limit; ++i) {
    *response.add_chunk() = listed[i];
  }
  if (offset + limit < static_cast<int64_t>(listed.size())) {
    response.set_next_batch(absl::StrCat(offset + limit));
  }
  if (offset > 0) response.set_prev_batch(absl::StrCat(std::max<int64_t>(0, offset - limit)));
  return response;
}

}  // namespace periscope::roomserver
