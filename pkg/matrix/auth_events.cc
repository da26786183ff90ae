#include "pkg/matrix/auth_events.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

absl::StatusOr<StateKey> KeyOf(const Json& event) {
  if (!event.is_object() || !event.contains("type") || !event["type"].is_string() ||
      !event.contains("state_key") || !event["state_key"].is_string()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                       "an auth event must be a state event with a string type and state_key");
  }
  return StateKey(event["type"].get<std::string>(), event["state_key"].get<std::string>());
}

}  // namespace

absl::Status AuthEvents::Add(std::string event_id, Json event) {
  PERISCOPE_ASSIGN_OR_RETURN(StateKey key, KeyOf(event));
  if (entries_.contains(key)) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                       absl::StrCat("two auth events for (", key.first, ", \"", key.second, "\")"));
  }
  entries_.emplace(std::move(key), Entry{std::move(event_id), std::move(event)});
  return absl::OkStatus();
}

absl::Status AuthEvents::Put(std::string event_id, Json event) {
  PERISCOPE_ASSIGN_OR_RETURN(StateKey key, KeyOf(event));
  entries_.insert_or_assign(std::move(key), Entry{std::move(event_id), std::move(event)});
  return absl::OkStatus();
}

const AuthEvents::Entry* AuthEvents::Find(absl::string_view type,
                                          absl::string_view state_key) const {
  auto it = entries_.find(StateKey(std::string(type), std::string(state_key)));
  return it == entries_.end() ? nullptr : &it->second;
}

const Json* AuthEvents::Get(absl::string_view type, absl::string_view state_key) const {
  const Entry* entry = Find(type, state_key);
  return entry == nullptr ? nullptr : &entry->event;
}

std::string AuthEvents::MembershipOf(absl::string_view user_id) const {
  const Json* member = Get("m.room.member", user_id);
  if (member == nullptr) return "leave";
  std::string membership = StringField(ContentOf(*member), "membership");
  return membership.empty() ? "leave" : membership;
}

std::string CreateEventIdOfRoom(absl::string_view room_id) {
  if (!room_id.empty() && room_id.front() == '!') room_id.remove_prefix(1);
  return absl::StrCat("$", room_id);
}

std::string RoomIdOfCreateEvent(absl::string_view create_event_id) {
  if (!create_event_id.empty() && create_event_id.front() == '$') create_event_id.remove_prefix(1);
  return absl::StrCat("!", create_event_id);
}

std::vector<std::string> AuthEventIdsOf(const Json& event, int room_version) {
  std::vector<std::string> ids;
  const Json& auth_events = JsonField(event, "auth_events");
  if (auth_events.is_array()) {
    for (const Json& id : auth_events) {
      if (id.is_string()) ids.push_back(id.get<std::string>());
    }
  }
  if (room_version >= 12 && StringField(event, "type") != "m.room.create") {
    ids.push_back(CreateEventIdOfRoom(StringField(event, "room_id")));
  }
  return ids;
}

std::vector<StateKey> AuthStateKeysFor(const Json& event, int room_version) {
  std::vector<StateKey> keys = AuthEventKeysFor(event, room_version);
  if (room_version >= 12) keys.emplace(keys.begin(), "m.room.create", "");
  return keys;
}

std::vector<StateKey> AuthEventKeysFor(const Json& event, int room_version) {
  std::string type = StringField(event, "type");
  std::vector<StateKey> keys;
  if (room_version < 12) keys.emplace_back("m.room.create", "");
  keys.emplace_back("m.room.power_levels", "");
  keys.emplace_back("m.room.member", StringField(event, "sender"));
  if (type != "m.room.member") return keys;
  const Json& content = ContentOf(event);
  std::string target = StringField(event, "state_key");
  keys.emplace_back("m.room.member", target);
  std::string membership = StringField(content, "membership");
  if (membership == "join" || membership == "invite" || membership == "knock") {
    keys.emplace_back("m.room.join_rules", "");
  }
  if (membership == "invite" && content.is_object() && content.contains("third_party_invite")) {
    std::string token =
        StringField(JsonField(JsonField(content, "third_party_invite"), "signed"), "token");
    keys.emplace_back("m.room.third_party_invite", token);
  }
  std::string authoriser = StringField(content, "join_authorised_via_users_server");
  if (room_version >= 8 && membership == "join" && !authoriser.empty()) {
    keys.emplace_back("m.room.member", authoriser);
  }
  return keys;
}

absl::Status CheckAuthEventsSelection(const Json& event, const std::vector<Json>& auth_events,
                                      int room_version) {
  std::vector<StateKey> wanted = AuthEventKeysFor(event, room_version);
  std::set<StateKey> seen;
  for (const Json& auth_event : auth_events) {
    absl::StatusOr<StateKey> key = KeyOf(auth_event);
    if (!key.ok()) return AuthFailure("2.2", "an auth event is not a state event");
    if (!seen.insert(*key).second) {
      return AuthFailure("2.1", absl::StrCat("duplicate auth events for (", key->first, ", \"",
                                             key->second, "\")"));
    }
    if (std::find(wanted.begin(), wanted.end(), *key) == wanted.end()) {
      return AuthFailure("2.2", absl::StrCat("auth event (", key->first, ", \"", key->second,
                                             "\") is not one the event needs"));
    }
  }
  if (room_version < 12 && !seen.contains(StateKey("m.room.create", ""))) {
    return AuthFailure("2.4", "no m.room.create among the auth events");
  }
  return absl::OkStatus();
}

}  // namespace periscope::matrix
