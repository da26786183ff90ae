#include "internal/federationapi/reads/server_visibility.h"

#include "pkg/matrix/history_visibility.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/user_id.h"

namespace periscope::federationapi {
namespace {

// True if a member event in `state` of a user of `server_name` has one of the memberships.
bool HasMember(const std::vector<StoredPdu>& state, const std::string& server_name,
               std::initializer_list<const char*> memberships) {
  for (const StoredPdu& pdu : state) {
    matrix::Json event = matrix::Json::parse(pdu.json, nullptr, false);
    if (!event.is_object() || matrix::StringField(event, "type") != "m.room.member") continue;
    absl::StatusOr<matrix::UserIdParts> user =
        matrix::ParseUserId(matrix::StringField(event, "state_key"));
    if (!user.ok() || user->server_name != server_name) continue;
    std::string membership = matrix::StringField(matrix::ContentOf(event), "membership");
    for (const char* m : memberships) {
      if (membership == m) return true;
    }
  }
  return false;
}

}  // namespace

bool ServerHasJoinedMember(const std::vector<StoredPdu>& state, const std::string& server_name) {
  return HasMember(state, server_name, {"join"});
}

matrix::HistoryVisibility VisibilityOf(const std::vector<StoredPdu>& state) {
  std::string visibility = "shared";
  for (const StoredPdu& pdu : state) {
    matrix::Json event = matrix::Json::parse(pdu.json, nullptr, false);
    if (event.is_object() && matrix::StringField(event, "type") == "m.room.history_visibility" &&
        matrix::StringField(event, "state_key").empty()) {
      std::string v = matrix::StringField(matrix::ContentOf(event), "history_visibility");
      if (!v.empty()) visibility = v;
    }
  }
  return matrix::ParseHistoryVisibility(visibility);
}

bool WorldReadable(const std::vector<StoredPdu>& state) {
  return VisibilityOf(state) == matrix::HistoryVisibility::kWorldReadable;
}

bool ServerMaySeeEvent(const std::vector<StoredPdu>& state_at_event, const std::string& server_name,
                       bool in_room) {
  matrix::HistoryVisibility hv = VisibilityOf(state_at_event);
  if (hv == matrix::HistoryVisibility::kWorldReadable) return true;
  if (!in_room) return false;
  if (hv == matrix::HistoryVisibility::kShared) return true;
  if (hv == matrix::HistoryVisibility::kInvited) {
    return HasMember(state_at_event, server_name, {"join", "invite"});
  }
  return HasMember(state_at_event, server_name, {"join"});
}

}  // namespace periscope::federationapi
