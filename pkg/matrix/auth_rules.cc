#include "pkg/matrix/auth_rules.h"

#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/power_levels.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

std::optional<std::string> DomainOf(absl::string_view id, char sigil) {
  absl::StatusOr<SigilId> parsed = ParseSigilId(id, sigil);
  if (!parsed.ok()) return std::nullopt;
  return parsed->server_name;
}

}  // namespace

absl::StatusOr<PowerLevels> PowerLevelsIn(const AuthEvents& auth, int room_version) {
  const Json* power_levels = auth.Get("m.room.power_levels", "");
  const Json* create = auth.Get("m.room.create", "");
  PowerLevels levels;
  if (power_levels == nullptr) {
    levels = PowerLevelsWithoutEvent(create == nullptr ? "" : RoomCreator(*create, room_version));
  } else {
    absl::StatusOr<PowerLevels> parsed = ParsePowerLevels(ContentOf(*power_levels), room_version);
    if (!parsed.ok()) {
      return AuthFailure("9", absl::StrCat("the room's current power levels are malformed: ",
                                           parsed.status().message()));
    }
    levels = *std::move(parsed);
  }
  if (room_version >= 12 && create != nullptr)
    levels.creators = RoomCreators(*create, room_version);
  return levels;
}

namespace {

// Rule 1.3 asks whether the version is one the spec defines (1-12), not whether Periscope can
// host it.
bool IsRecognisedRoomVersion(absl::string_view version) {
  int v = 0;
  return absl::SimpleAtoi(version, &v) && v >= 1 && v <= 12 && absl::StrCat(v) == version;
}

bool IsKnockRule(absl::string_view rule, int version) {
  return (rule == "knock" && version >= 7) || (rule == "knock_restricted" && version >= 10);
}
bool IsRestrictedRule(absl::string_view rule, int version) {
  return (rule == "restricted" && version >= 8) || (rule == "knock_restricted" && version >= 10);
}

// The event being checked, with the fields the rules read pulled out once.
struct Checked {
  const Json& event;
  const AuthEvents& auth;
  int version;
  std::string type;
  std::string sender;
  std::optional<std::string> state_key;
  const Json& content;
};

absl::Status CheckCreate(const Checked& e) {
  if (auto prev = e.event.find("prev_events");
      prev != e.event.end() && !(prev->is_array() && prev->empty())) {
    return AuthFailure("1.1", "m.room.create must have no prev_events");
  }
  if (e.version < 12) {
    std::optional<std::string> room_domain = DomainOf(StringField(e.event, "room_id"), '!');
    std::optional<std::string> sender_domain = DomainOf(e.sender, '@');
    if (!room_domain || !sender_domain || *room_domain != *sender_domain) {
      return AuthFailure("1.2", "the room id's server must be the sender's server");
    }
  }
  if (e.version >= 12 && e.event.contains("room_id")) {
    return AuthFailure("1.2 (v12)", "m.room.create must not have a room_id: its id names the room");
  }
  if (e.version >= 12 && e.content.contains("additional_creators")) {
    const Json& creators = e.content["additional_creators"];
    if (!creators.is_array()) {
      return AuthFailure("1.4 (v12)", "content.additional_creators is not an array");
    }
    for (const Json& creator : creators) {
      if (!creator.is_string() || !DomainOf(creator.get<std::string>(), '@')) {
        return AuthFailure("1.4 (v12)", "content.additional_creators holds a non-user id");
      }
    }
  }
  if (e.content.contains("room_version")) {
    const Json& version = e.content["room_version"];
    if (!version.is_string() || !IsRecognisedRoomVersion(version.get<std::string>())) {
      return AuthFailure("1.3", "content.room_version is not a known room version");
    }
  }
  if (e.version < 11 && !e.content.contains("creator")) {
    return AuthFailure("1.4", "content.creator is missing");
  }
  return absl::OkStatus();
}

absl::Status CheckJoin(const Checked& e, const std::string& target, const PowerLevels& levels,
                       absl::string_view join_rule) {
  const AuthEvents::Entry* create = e.auth.Find("m.room.create", "");
  const Json& prev_events = JsonField(e.event, "prev_events");
  if (prev_events.is_array() && prev_events.size() == 1 && prev_events[0].is_string() &&
      prev_events[0].get<std::string>() == create->event_id &&
      target == RoomCreator(create->event, e.version)) {
    return absl::OkStatus();  // 4.3.1: the creator joining right after creating
  }
  if (e.sender != target) return AuthFailure("4.3.2", "a user can only join as themselves");
  std::string current = e.auth.MembershipOf(target);
  if (current == "ban") return AuthFailure("4.3.3", "the user is banned from the room");
  // knock_restricted is not here: it is handled as restricted (rule 4.3.5).
  if (join_rule == "invite" || (join_rule == "knock" && e.version >= 7)) {
    if (current == "invite" || current == "join") return absl::OkStatus();
    return AuthFailure("4.3.4", absl::StrCat("the room is ", join_rule, "-only and ", target,
                                             " has not been invited"));
  }
  if (IsRestrictedRule(join_rule, e.version)) {
    if (current == "invite" || current == "join") return absl::OkStatus();
    std::string authoriser = StringField(e.content, "join_authorised_via_users_server");
    if (authoriser.empty()) {
      return AuthFailure("4.3.5.2", "a restricted join needs join_authorised_via_users_server");
    }
    if (e.auth.MembershipOf(authoriser) != "join" || levels.UserLevel(authoriser) < levels.invite) {
      return AuthFailure("4.3.5.2",
                         absl::StrCat(authoriser, " may not invite, so cannot authorise a join"));
    }
    return absl::OkStatus();
  }
  if (join_rule == "public") return absl::OkStatus();
  return AuthFailure("4.3.7", absl::StrCat("join rule \"", join_rule, "\" admits no joins"));
}

absl::Status CheckMember(const Checked& e, const PowerLevels& levels) {
  if (!e.state_key || !e.content.contains("membership") || !e.content["membership"].is_string()) {
    return AuthFailure("4.1", "m.room.member needs a state_key and a string content.membership");
  }
  const std::string& target = *e.state_key;
  std::string membership = e.content["membership"].get<std::string>();
  if (e.version >= 8 && e.content.contains("join_authorised_via_users_server")) {
    std::optional<std::string> server =
        DomainOf(StringField(e.content, "join_authorised_via_users_server"), '@');
    const Json& signatures = JsonField(e.event, "signatures");
    if (!server || !signatures.is_object() || !signatures.contains(*server)) {
      return AuthFailure(
          "4.2", "the event is not signed by the server of join_authorised_via_users_server");
    }
  }
  std::string join_rule = StringField(e.auth.Get("m.room.join_rules", "") == nullptr
                                          ? Json()
                                          : ContentOf(*e.auth.Get("m.room.join_rules", "")),
                                      "join_rule");
  std::string sender_membership = e.auth.MembershipOf(e.sender);
  std::string target_membership = e.auth.MembershipOf(target);
  int64_t sender_level = levels.UserLevel(e.sender);
  int64_t target_level = levels.UserLevel(target);

  if (membership == "join") return CheckJoin(e, target, levels, join_rule);
  if (membership == "invite") {
    if (e.content.contains("third_party_invite")) {
      return AuthFailure("4.4.1", "third-party invites are not supported by this server");
    }
    if (sender_membership != "join") {
      return AuthFailure("4.4.2", "the inviter is not in the room");
    }
    if (target_membership == "join" || target_membership == "ban") {
      return AuthFailure(
          "4.4.3", absl::StrCat(target, " is ", target_membership == "ban" ? "banned" : "joined",
                                " and cannot be invited"));
    }
    if (sender_level >= levels.invite) return absl::OkStatus();
    return AuthFailure("4.4.5", absl::StrCat("inviting needs power level ", levels.invite,
                                             "; the sender has ", sender_level));
  }
  if (membership == "leave") {
    if (e.sender == target) {
      if (sender_membership == "invite" || sender_membership == "join" ||
          (sender_membership == "knock" && e.version >= 7)) {
        return absl::OkStatus();
      }
      return AuthFailure("4.5.1",
                         absl::StrCat("cannot leave with membership \"", sender_membership, "\""));
    }
    if (sender_membership != "join") return AuthFailure("4.5.2", "the sender is not in the room");
    if (target_membership == "ban" && sender_level < levels.ban) {
      return AuthFailure("4.5.3", absl::StrCat("unbanning needs power level ", levels.ban,
                                               "; the sender has ", sender_level));
    }
    if (sender_level >= levels.kick && target_level < sender_level) return absl::OkStatus();
    return AuthFailure("4.5.5", absl::StrCat("kicking needs power level ", levels.kick,
                                             " and more than the target's ", target_level,
                                             "; the sender has ", sender_level));
  }
  if (membership == "ban") {
    if (sender_membership != "join") return AuthFailure("4.6.1", "the sender is not in the room");
    if (sender_level >= levels.ban && target_level < sender_level) return absl::OkStatus();
    return AuthFailure("4.6.3", absl::StrCat("banning needs power level ", levels.ban,
                                             " and more than the target's ", target_level,
                                             "; the sender has ", sender_level));
  }
  if (membership == "knock" && e.version >= 7) {
    if (!IsKnockRule(join_rule, e.version)) {
      return AuthFailure("4.7.1", "the room's join rule does not allow knocking");
    }
    if (e.sender != target) return AuthFailure("4.7.2", "a user can only knock as themselves");
    if (sender_membership != "ban" && sender_membership != "invite" &&
        sender_membership != "join") {
      return absl::OkStatus();
    }
    return AuthFailure("4.7.4",
                       absl::StrCat("cannot knock with membership \"", sender_membership, "\""));
  }
  return AuthFailure("4.8", absl::StrCat("unknown membership \"", membership, "\""));
}

// Rules 9.5-9.9: what a sender at `sender_level` may change.
absl::Status CheckPowerLevelChange(const PowerLevels& old_levels, const PowerLevels& new_levels,
                                   const Json& old_content, const Json& new_content,
                                   absl::string_view sender, int64_t sender_level, int version) {
  for (const auto& [key, field] : kPowerLevelScalars) {
    bool had = old_content.contains(key);
    bool has = new_content.contains(key);
    int64_t old_value = old_levels.*field;
    int64_t new_value = new_levels.*field;
    if (had == has && (!had || old_value == new_value)) continue;
    if (had && old_value > sender_level) {
      return AuthFailure("9.5.1", absl::StrCat("cannot change ", key, " from ", old_value,
                                               ", above the sender's level ", sender_level));
    }
    if (has && new_value > sender_level) {
      return AuthFailure("9.5.2", absl::StrCat("cannot set ", key, " to ", new_value,
                                               ", above the sender's level ", sender_level));
    }
  }
  using LevelMap = std::map<std::string, int64_t, std::less<>>;
  auto check_map = [&](const LevelMap& before, const LevelMap& after,
                       absl::string_view name) -> absl::Status {
    for (const auto& [key, old_value] : before) {
      auto it = after.find(key);
      if (it != after.end() && it->second == old_value) continue;  // unchanged
      if (old_value > sender_level) {
        return AuthFailure("9.6.1",
                           absl::StrCat("cannot change ", name, ".", key, " from ", old_value,
                                        ", above the sender's level ", sender_level));
      }
    }
    for (const auto& [key, new_value] : after) {
      auto it = before.find(key);
      if (it != before.end() && it->second == new_value) continue;
      if (new_value > sender_level) {
        return AuthFailure("9.7.1", absl::StrCat("cannot set ", name, ".", key, " to ", new_value,
                                                 ", above the sender's level ", sender_level));
      }
    }
    return absl::OkStatus();
  };
  PERISCOPE_RETURN_IF_ERROR(check_map(old_levels.events, new_levels.events, "events"));
  if (version >= 6) {  // MSC2209: notifications are guarded like events from room version 6
    PERISCOPE_RETURN_IF_ERROR(
        check_map(old_levels.notifications, new_levels.notifications, "notifications"));
  }
  for (const auto& [user, old_value] : old_levels.users) {
    auto it = new_levels.users.find(user);
    if (it != new_levels.users.end() && it->second == old_value) continue;
    if (user != sender && old_value >= sender_level) {
      return AuthFailure("9.8.1", absl::StrCat("cannot change the level of ", user, " (", old_value,
                                               "), not below the sender's ", sender_level));
    }
  }
  for (const auto& [user, new_value] : new_levels.users) {
    auto it = old_levels.users.find(user);
    if (it != old_levels.users.end() && it->second == new_value) continue;
    if (new_value > sender_level) {
      return AuthFailure("9.9.1", absl::StrCat("cannot give ", user, " level ", new_value,
                                               ", above the sender's level ", sender_level));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPowerLevels(const Checked& e, const PowerLevels& current, int64_t sender_level) {
  absl::StatusOr<PowerLevels> proposed = ParsePowerLevels(e.content, e.version);
  if (!proposed.ok()) {
    // The message starts "m.room.power_levels: <key>"; the key says which rule refused it.
    absl::string_view message = proposed.status().message();
    absl::string_view key =
        message.substr(std::min(message.size(), sizeof("m.room.power_levels: ") - 1));
    absl::string_view rule = "9.1";
    if (absl::StartsWith(key, "users ") || absl::StartsWith(key, "users:") ||
        absl::StartsWith(key, "users.")) {
      rule = "9.3";
    } else if (absl::StartsWith(key, "events ") || absl::StartsWith(key, "events.") ||
               absl::StartsWith(key, "notifications")) {
      rule = "9.2";
    }
    return AuthFailure(rule, message);
  }
  for (const std::string& creator : current.creators) {
    if (proposed->users.contains(creator)) {
      return AuthFailure("10.4 (v12)",
                         absl::StrCat("users must not list ", creator, ", a room creator"));
    }
  }
  const Json* old_event = e.auth.Get("m.room.power_levels", "");
  if (old_event == nullptr) return absl::OkStatus();  // 9.4
  return CheckPowerLevelChange(current, *proposed, ContentOf(*old_event), e.content, e.sender,
                               sender_level, e.version);
}

}  // namespace

absl::Status AuthFailure(absl::string_view rule, absl::string_view detail) {
  return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                     absl::StrCat("auth rule ", rule, ": ", detail));
}

std::string RoomCreator(const Json& create_event, int room_version) {
  if (room_version >= 11) return StringField(create_event, "sender");
  return StringField(ContentOf(create_event), "creator");
}

std::vector<std::string> RoomCreators(const Json& create_event, int room_version) {
  std::vector<std::string> creators = {RoomCreator(create_event, room_version)};
  if (room_version < 12) return creators;
  const Json& additional = JsonField(ContentOf(create_event), "additional_creators");
  if (!additional.is_array()) return creators;
  for (const Json& creator : additional) {
    if (creator.is_string()) creators.push_back(creator.get<std::string>());
  }
  return creators;
}

absl::Status CheckAuthRules(const Json& event, const AuthEvents& auth, int room_version) {
  if (!event.is_object()) return AuthFailure("0", "the event is not a JSON object");
  Checked e{event, auth, room_version, "", "", std::nullopt, ContentOf(event)};
  e.type = StringField(event, "type");
  e.sender = StringField(event, "sender");
  if (auto it = event.find("state_key"); it != event.end() && it->is_string()) {
    e.state_key = it->get<std::string>();
  }
  if (!e.content.is_object()) return AuthFailure("0", "content is not an object");
  if (e.type.empty()) return AuthFailure("0", "the event has no type");
  if (!DomainOf(e.sender, '@')) return AuthFailure("0", "the sender is not a user id");

  // Rule 1 applies to every m.room.create, whatever its state_key (as Synapse applies it): one
  // with another state_key would otherwise pass as an ordinary state event with prev_events.
  if (e.type == "m.room.create") return CheckCreate(e);

  const AuthEvents::Entry* create_entry = auth.Find("m.room.create", "");
  if (create_entry == nullptr) return AuthFailure("2.4", "no m.room.create in the auth state");
  if (room_version >= 12 &&
      create_entry->event_id != CreateEventIdOfRoom(StringField(event, "room_id"))) {
    return AuthFailure("2 (v12)", "the room id is not the id of the room's create event");
  }
  const Json* create = &create_entry->event;
  if (const Json& federate = JsonField(ContentOf(*create), "m.federate");
      federate.is_boolean() && !federate.get<bool>() &&
      DomainOf(e.sender, '@') != DomainOf(StringField(*create, "sender"), '@')) {
    return AuthFailure("3", "the room does not federate and the sender is on another server");
  }
  PERISCOPE_ASSIGN_OR_RETURN(PowerLevels levels, PowerLevelsIn(auth, room_version));

  if (e.type == "m.room.member") return CheckMember(e, levels);

  if (auth.MembershipOf(e.sender) != "join") {
    return AuthFailure("5", absl::StrCat(e.sender, " is not in the room"));
  }
  int64_t sender_level = levels.UserLevel(e.sender);
  if (e.type == "m.room.third_party_invite") {
    if (sender_level >= levels.invite) return absl::OkStatus();
    return AuthFailure("6.1", absl::StrCat("needs power level ", levels.invite, "; the sender has ",
                                           sender_level));
  }
  int64_t required = levels.EventLevel(e.type, e.state_key.has_value());
  if (required > sender_level) {
    return AuthFailure("7", absl::StrCat(e.type, " needs power level ", required,
                                         "; the sender has ", sender_level));
  }
  if (e.state_key && !e.state_key->empty() && (*e.state_key)[0] == '@' &&
      *e.state_key != e.sender) {
    return AuthFailure("8", "a state_key starting with @ must be the sender's own user id");
  }
  if (e.type == "m.room.power_levels" && e.state_key == "") {
    return CheckPowerLevels(e, levels, sender_level);
  }
  return absl::OkStatus();
}

absl::Status CheckClientRedaction(absl::string_view redactor, absl::string_view original_sender,
                                  const AuthEvents& auth, int room_version) {
  if (redactor == original_sender) return absl::OkStatus();
  PERISCOPE_ASSIGN_OR_RETURN(PowerLevels levels, PowerLevelsIn(auth, room_version));
  if (levels.UserLevel(redactor) >= levels.redact) return absl::OkStatus();
  return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                     absl::StrCat("redacting another user's event needs power level ",
                                  levels.redact, "; you have ", levels.UserLevel(redactor)));
}

bool RedactionTakesEffect(absl::string_view redactor, absl::string_view original_sender,
                          const AuthEvents& auth, int room_version) {
  std::optional<std::string> redactor_domain = DomainOf(redactor, '@');
  if (redactor_domain && redactor_domain == DomainOf(original_sender, '@')) return true;
  absl::StatusOr<PowerLevels> levels = PowerLevelsIn(auth, room_version);
  return levels.ok() && levels->UserLevel(redactor) >= levels->redact;
}

}  // namespace periscope::matrix
