#include "internal/federationsender/query/remote_queries.h"

#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationsender {
namespace {

namespace errcode = matrix::errcode;

absl::Status Invalid(absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam, why);
}

absl::Status Nonsense(const std::string& server, absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(server, " answered a malformed ", what));
}

}  // namespace

absl::StatusOr<v1::QueryRemoteProfileResponse> RemoteQueries::Profile(const std::string& user_id,
                                                                      const std::string& field) {
  absl::StatusOr<matrix::UserIdParts> user = matrix::ParseUserId(user_id);
  if (!user.ok()) return Invalid("not a user id");
  if (user->server_name == our_server_name_) return Invalid("the user is on this server");
  if (!field.empty() && field != "displayname" && field != "avatar_url") {
    return Invalid("field must be displayname or avatar_url");
  }
  std::string target = absl::StrCat("/_matrix/federation/v1/query/profile?user_id=",
                                    federation::EncodePathArg(user_id));
  if (!field.empty()) absl::StrAppend(&target, "&field=", field);
  absl::StatusOr<federation::FederationResponse> r =
      federation_.Call(user->server_name, "GET", target, std::nullopt, kTimeout);
  if (!r.ok()) return r.status();
  if (!r->ok()) return federation::RemoteErrorStatus(user->server_name, *r);
  if (!r->body.is_object()) return Nonsense(user->server_name, "profile");
  v1::QueryRemoteProfileResponse out;
  // Fields that are not strings are ignored, as an unset field is.
  if (auto it = r->body.find("displayname"); it != r->body.end() && it->is_string()) {
    out.set_displayname(it->get<std::string>());
  }
  if (auto it = r->body.find("avatar_url"); it != r->body.end() && it->is_string()) {
    out.set_avatar_url(it->get<std::string>());
  }
  return out;
}

absl::StatusOr<v1::QueryRemoteAliasResponse> RemoteQueries::Alias(const std::string& alias) {
  size_t colon = alias.find(':');
  if (alias.size() < 3 || alias[0] != '#' || colon == std::string::npos) {
    return Invalid("not a room alias");
  }
  std::string server = alias.substr(colon + 1);
  if (server == our_server_name_) return Invalid("the alias is on this server");
  absl::StatusOr<federation::FederationResponse> r =
      federation_.Call(server, "GET",
                       absl::StrCat("/_matrix/federation/v1/query/directory?room_alias=",
                                    federation::EncodePathArg(alias)),
                       std::nullopt, kTimeout);
  if (!r.ok()) return r.status();
  if (!r->ok()) return federation::RemoteErrorStatus(server, *r);
  auto room = r->body.is_object() ? r->body.find("room_id") : r->body.end();
  if (!r->body.is_object() || room == r->body.end() || !room->is_string()) {
    return Nonsense(server, "directory answer");
  }
  v1::QueryRemoteAliasResponse out;
  out.set_room_id(room->get<std::string>());
  // The alias's own server is in the room (it answered for it): it is asked first.
  out.add_servers(server);
  if (auto servers = r->body.find("servers"); servers != r->body.end() && servers->is_array()) {
    for (const auto& s : *servers) {
      if (s.is_string() && s.get<std::string>() != server) out.add_servers(s.get<std::string>());
    }
  }
  return out;
}

}  // namespace periscope::federationsender
