#include "internal/roomserver/perform/room_creator.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pkg/crypto/random.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

using matrix::Json;
namespace errcode = matrix::errcode;

absl::Status BadJson(absl::string_view what) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson, what);
}

// Parses an optional JSON object given as text ("" is an empty object).
absl::StatusOr<Json> ObjectOrEmpty(const std::string& text, absl::string_view what) {
  if (text.empty()) return Json::object();
  absl::StatusOr<Json> parsed = matrix::ParseJson(text);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return BadJson(absl::StrCat(what, " must be a JSON object"));
  return parsed;
}

// Dendrite's defaults (internal/eventutil/eventcontent.go), which match Synapse's.
Json DefaultPowerLevels(absl::string_view creator) {
  return {{"ban", 50},
          {"kick", 50},
          {"redact", 50},
          {"invite", 0},
          {"users_default", 0},
          {"events_default", 0},
          {"state_default", 50},
          {"notifications", {{"room", 50}}},
          {"events",
           {{"m.room.name", 50},
            {"m.room.power_levels", 100},
            {"m.room.history_visibility", 100},
            {"m.room.canonical_alias", 50},
            {"m.room.avatar", 50},
            {"m.room.tombstone", 100},
            {"m.room.encryption", 100},
            {"m.room.server_acl", 100}}},
          {"users", {{std::string(creator), 100}}}};
}

struct PlannedState {
  std::string type;
  std::string state_key;
  Json content;
};

}  // namespace

absl::StatusOr<v1::PerformCreateRoomResponse> RoomCreator::Create(
    const v1::PerformCreateRoomRequest& request) {
  const std::string& creator = request.user_id();
  PERISCOPE_ASSIGN_OR_RETURN(matrix::SigilId creator_id, matrix::ParseSigilId(creator, '@'));
  const std::string& server = writer_.server_name();
  if (creator_id.server_name != server) {
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                       "only local users can create rooms here");
  }
  int version = kDefaultRoomVersion;
  if (!request.room_version().empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(version, matrix::ParseRoomVersion(request.room_version()));
  }
  PERISCOPE_ASSIGN_OR_RETURN(Json creation_content,
                             ObjectOrEmpty(request.creation_content_json(), "creation_content"));
  PERISCOPE_ASSIGN_OR_RETURN(
      Json power_override,
      ObjectOrEmpty(request.power_level_content_override_json(), "power_level_content_override"));
  for (const std::string& invitee : request.invite()) {
    PERISCOPE_RETURN_IF_ERROR(matrix::ParseSigilId(invitee, '@').status());
  }
  std::string alias;
  if (!request.room_alias_name().empty()) {
    alias = absl::StrCat("#", request.room_alias_name(), ":", server);
    PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomAlias(alias));
  }

  v1::RoomPreset preset = request.preset();
  if (preset == v1::ROOM_PRESET_UNSPECIFIED) {
    preset = request.visibility() == v1::ROOM_VISIBILITY_PUBLIC ? v1::ROOM_PRESET_PUBLIC_CHAT
                                                                : v1::ROOM_PRESET_PRIVATE_CHAT;
  }
  const bool public_chat = preset == v1::ROOM_PRESET_PUBLIC_CHAT;

  // The state after the create event and the creator's join, in order.
  Json create_content = creation_content;
  create_content["room_version"] = absl::StrCat(version);
  if (version < 11) create_content["creator"] = creator;
  Json power_levels = DefaultPowerLevels(creator);
  if (version >= 12) {
    // Creators have infinite power and must not be listed (auth rule 10.4); the invitees of a
    // trusted private chat become creators too (MSC4289), rather than users at 100.
    power_levels["users"] = Json::object();
    if (preset == v1::ROOM_PRESET_TRUSTED_PRIVATE_CHAT && request.invite_size() > 0) {
      Json& additional = create_content["additional_creators"];
      if (!additional.is_array()) additional = Json::array();
      for (const std::string& invitee : request.invite()) additional.push_back(invitee);
    }
  } else if (preset == v1::ROOM_PRESET_TRUSTED_PRIVATE_CHAT) {
    for (const std::string& invitee : request.invite()) power_levels["users"][invitee] = 100;
  }
  for (const auto& [key, value] : power_override.items()) power_levels[key] = value;

  std::vector<PlannedState> planned;
  planned.push_back({"m.room.power_levels", "", power_levels});
  if (!alias.empty()) planned.push_back({"m.room.canonical_alias", "", {{"alias", alias}}});
  planned.push_back({"m.room.join_rules", "", {{"join_rule", public_chat ? "public" : "invite"}}});
  planned.push_back({"m.room.history_visibility", "", {{"history_visibility", "shared"}}});
  planned.push_back(
      {"m.room.guest_access", "", {{"guest_access", public_chat ? "forbidden" : "can_join"}}});
  // initial_state replaces what the preset set for the same key, else comes after it.
  for (const v1::StateEvent& extra : request.initial_state()) {
    if (extra.type().empty()) {
      return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                         "initial_state events need a type");
    }
    PERISCOPE_ASSIGN_OR_RETURN(Json content, ObjectOrEmpty(extra.content_json(), "content"));
    auto same = std::find_if(planned.begin(), planned.end(), [&](const PlannedState& p) {
      return p.type == extra.type() && p.state_key == extra.state_key();
    });
    if (same != planned.end()) {
      same->content = std::move(content);
    } else {
      planned.push_back({extra.type(), extra.state_key(), std::move(content)});
    }
  }
  if (!request.name().empty()) planned.push_back({"m.room.name", "", {{"name", request.name()}}});
  if (!request.topic().empty()) {
    planned.push_back({"m.room.topic", "", {{"topic", request.topic()}}});
  }

  std::string room_id;
  auto proto = [&](std::string type, std::optional<std::string> state_key, Json content) {
    matrix::ProtoEvent p;
    p.room_id = room_id;
    p.sender = creator;
    p.type = std::move(type);
    p.state_key = std::move(state_key);
    p.content = std::move(content);
    return p;
  };
  const int64_t now_ms = absl::ToUnixMillis(writer_.clock().Now());
  matrix::ProtoEvent create = proto("m.room.create", "", create_content);
  if (version >= 12) {
    // The create event names the room: build it first (at a fixed time, so that appending it
    // below gives the same event) and take the room id from its id.
    create.origin_server_ts = now_ms;
    PERISCOPE_ASSIGN_OR_RETURN(room_id, writer_.RoomIdNamedBy(create, version));
  } else {
    room_id = absl::StrCat(
        "!", crypto::RandomString(18, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), ":",
        server);
    create.room_id = room_id;
  }
  PERISCOPE_ASSIGN_OR_RETURN(
      Json creator_member,
      ObjectOrEmpty(request.creator_member_content_json(), "creator_member_content"));
  creator_member["membership"] = "join";
  SendOrigin origin{request.device_id(), ""};
  PERISCOPE_RETURN_IF_ERROR(
      store_.CreateRoom(room_id, version, now_ms, [&](RoomWriteTxn& txn) -> absl::Status {
        PERISCOPE_RETURN_IF_ERROR(writer_.Append(txn, create, origin).status());
        PERISCOPE_RETURN_IF_ERROR(
            writer_.Append(txn, proto("m.room.member", creator, creator_member), origin).status());
        for (PlannedState& state : planned) {
          PERISCOPE_RETURN_IF_ERROR(
              writer_
                  .Append(txn, proto(state.type, state.state_key, std::move(state.content)), origin)
                  .status());
        }
        for (const std::string& invitee : request.invite()) {
          Json content = {{"membership", "invite"}};
          if (request.is_direct()) content["is_direct"] = true;
          PERISCOPE_RETURN_IF_ERROR(
              writer_.Append(txn, proto("m.room.member", invitee, content), origin).status());
        }
        if (!alias.empty()) PERISCOPE_RETURN_IF_ERROR(txn.CreateAlias(alias, creator));
        if (request.visibility() == v1::ROOM_VISIBILITY_PUBLIC) {
          PERISCOPE_RETURN_IF_ERROR(txn.SetPublished(true));
        }
        return absl::OkStatus();
      }));
  v1::PerformCreateRoomResponse response;
  response.set_room_id(room_id);
  response.set_room_alias(alias);
  return response;
}

}  // namespace periscope::roomserver
