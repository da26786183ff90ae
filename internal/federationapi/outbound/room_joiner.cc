#include "internal/federationapi/outbound/room_joiner.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "internal/federationapi/inbound/pdu_checks.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;

constexpr int kMinRoomVersion = 4;
constexpr int kMaxRoomVersion = 12;

// make_join and send_join wait for a resident that may be busy with a big room.
constexpr absl::Duration kMakeJoinTimeout = absl::Seconds(30);
constexpr absl::Duration kSendJoinTimeout = absl::Seconds(90);

absl::Status BadAnswer(const std::string& server, absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnavailable, errcode::kUnknown,
                     absl::StrCat("The answer of ", server, " cannot be used: ", why));
}

int64_t DepthOf(const matrix::Json& event) {
  const matrix::Json& depth = matrix::JsonField(event, "depth");
  return depth.is_number_integer() ? depth.get<int64_t>() : 0;
}

}  // namespace

std::vector<matrix::Json> AuthOrder(std::vector<matrix::Json> events, int room_version) {
  std::map<std::string, size_t> index;
  std::vector<std::string> ids(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    ids[i] = matrix::ComputeEventId(events[i], room_version).value_or("");
    index.emplace(ids[i], i);
  }
  // Kahn's algorithm over the auth edges inside the set, the shallowest ready event first.
  std::vector<int> waiting(events.size(), 0);
  std::vector<std::vector<size_t>> dependents(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    for (const std::string& auth : matrix::AuthEventIdsOf(events[i], room_version)) {
      auto it = index.find(auth);
      if (it == index.end() || it->second == i) continue;
      ++waiting[i];
      dependents[it->second].push_back(i);
    }
  }
  std::set<std::tuple<int64_t, std::string, size_t>> ready;
  for (size_t i = 0; i < events.size(); ++i) {
    if (waiting[i] == 0) ready.emplace(DepthOf(events[i]), ids[i], i);
  }
  std::vector<matrix::Json> out;
  std::vector<bool> done(events.size(), false);
  while (out.size() < events.size()) {
    if (ready.empty()) {
      // A cycle (only a forged answer has one): the rest by depth; the roomserver refuses them.
      for (size_t i = 0; i < events.size(); ++i) {
        if (!done[i]) ready.emplace(DepthOf(events[i]), ids[i], i);
      }
    }
    auto [depth, id, i] = *ready.begin();
    ready.erase(ready.begin());
    if (done[i]) continue;
    done[i] = true;
    out.push_back(events[i]);
    for (size_t d : dependents[i]) {
      if (--waiting[d] == 0 && !done[d]) ready.emplace(DepthOf(events[d]), ids[d], d);
    }
  }
  return out;
}

absl::StatusOr<RoomJoiner::Template> RoomJoiner::MakeJoin(const std::string& room_id,
                                                          const std::string& user_id,
                                                          const std::vector<std::string>& servers) {
  std::string target =
      absl::StrCat("/_matrix/federation/v1/make_join/", federation::EncodePathArg(room_id), "/",
                   federation::EncodePathArg(user_id));
  for (int v = kMinRoomVersion; v <= kMaxRoomVersion; ++v) {
    absl::StrAppend(&target, v == kMinRoomVersion ? "?" : "&", "ver=", v);
  }
  absl::Status last = MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                                  absl::StrCat("No known servers for room ", room_id));
  for (const std::string& server : servers) {
    absl::StatusOr<federation::FederationResponse> answer =
        federation_.Call(server, "GET", target, std::nullopt, kMakeJoinTimeout);
    if (!answer.ok()) {
      last = answer.status();
      continue;
    }
    if (!answer->ok()) {
      last = federation::RemoteErrorStatus(server, *answer);
      // A refusal is the room's answer (as Synapse treats it); a server that does not know the
      // room, or failed, leaves the next one to ask.
      if (answer->status == 400 || answer->status == 403) return last;
      continue;
    }
    const matrix::Json& body = answer->body;
    const matrix::Json& event = matrix::JsonField(body, "event");
    // A missing room_version means version 1 (spec), which we cannot join.
    std::string version_name = matrix::StringField(body, "room_version");
    absl::StatusOr<int> version =
        matrix::ParseRoomVersion(version_name.empty() ? "1" : version_name);
    if (!version.ok()) {
      // Not one we offered (4-12): this server cannot be joined through; another may.
      last = MatrixError(absl::StatusCode::kInvalidArgument, errcode::kIncompatibleRoomVersion,
                         absl::StrCat(server, " answered make_join for room version \"",
                                      version_name, "\", which this server does not support"));
      continue;
    }
    if (!event.is_object() || matrix::StringField(event, "type") != "m.room.member" ||
        matrix::StringField(event, "sender") != user_id ||
        matrix::StringField(event, "state_key") != user_id ||
        matrix::StringField(event, "room_id") != room_id ||
        matrix::StringField(matrix::ContentOf(event), "membership") != "join" ||
        !matrix::JsonField(event, "prev_events").is_array() ||
        !matrix::JsonField(event, "auth_events").is_array()) {
      last = BadAnswer(server, "the make_join template is not the user's join into the room");
      continue;
    }
    return Template{server, *version, event};
  }
  return last;
}

absl::StatusOr<matrix::Json> RoomJoiner::BuildJoin(const Template& made, const std::string& room_id,
                                                   const std::string& user_id,
                                                   const std::string& content_json) {
  matrix::Json content = matrix::Json::object();
  if (!content_json.empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(content, matrix::ParseJson(content_json));
    if (!content.is_object()) {
      return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                         "member content must be a JSON object");
    }
  }
  // The resident's content may carry what a restricted join needs
  // (join_authorised_via_users_server); ours adds the user's own fields.
  matrix::Json merged = matrix::ContentOf(made.event);
  if (!merged.is_object()) merged = matrix::Json::object();
  for (auto& [key, value] : content.items()) merged[key] = value;
  merged["membership"] = "join";

  matrix::Json event = made.event;
  for (const char* key : {"hashes", "signatures", "unsigned", "event_id"}) event.erase(key);
  event["content"] = std::move(merged);
  event["origin_server_ts"] = absl::ToUnixMillis(clock_.Now());
  if (made.room_version < 11) {
    event["origin"] = our_server_name_;
  } else {
    event.erase("origin");
  }
  event["room_id"] = room_id;
  event["sender"] = user_id;
  event["state_key"] = user_id;
  PERISCOPE_ASSIGN_OR_RETURN(
      matrix::Json signed_event,
      matrix::SignEvent(std::move(event), our_server_name_, key_, made.room_version));
  PERISCOPE_RETURN_IF_ERROR(matrix::CheckEventSize(signed_event));
  return signed_event;
}

absl::StatusOr<std::string> RoomJoiner::TakeIn(const Template& made, const std::string& room_id,
                                               const matrix::Json& join, const std::string& join_id,
                                               const matrix::Json& answer) {
  const matrix::Json& state = matrix::JsonField(answer, "state");
  const matrix::Json& chain = matrix::JsonField(answer, "auth_chain");
  if (!state.is_array() || !chain.is_array()) {
    return BadAnswer(made.server, "send_join's answer has no state or auth_chain list");
  }
  // Every event goes through the checks of a received PDU; the ones that fail are dropped, as
  // Synapse drops them, and the roomserver then refuses what needed them.
  std::map<std::string, matrix::Json> checked;
  std::set<std::string> state_ids;
  bool has_create = false;
  for (const matrix::Json* list : {&chain, &state}) {
    for (const matrix::Json& pdu : *list) {
      absl::StatusOr<CheckedPdu> ok = CheckPdu(pdu, made.room_version, keyring_);
      if (!ok.ok() || ok->room_id != room_id) {
        // Room-level state (an ACL, the power levels, the join rules, history visibility...)
        // that cannot be verified, now or at all, would leave a wrong state: the join stops with
        // nothing input. A member event that cannot be (a long-gone server's) is left out.
        if (matrix::StringField(pdu, "state_key").empty() && list == &state) {
          return MatrixError(absl::StatusCode::kUnavailable, errcode::kUnknown,
                             absl::StrCat("The room's ", matrix::StringField(pdu, "type"), " from ",
                                          made.server, " cannot be verified: ",
                                          ok.ok() ? "another room" : ok.status().message()));
        }
        logging::Warn("federationapi.join_event_dropped",
                      {{"room_id", room_id},
                       {"server", made.server},
                       {"error", ok.ok() ? "another room" : ok.status().ToString()}});
        continue;
      }
      if (list == &state) {
        state_ids.insert(ok->event_id);
        if (matrix::StringField(ok->event, "type") == "m.room.create") has_create = true;
      }
      checked.emplace(ok->event_id, std::move(ok->event));
    }
  }
  if (!has_create) return BadAnswer(made.server, "the room's state has no m.room.create");

  std::vector<matrix::Json> events;
  for (auto& [id, event] : checked) events.push_back(std::move(event));
  events = AuthOrder(std::move(events), made.room_version);
  for (size_t start = 0; start < events.size(); start += kInputBatch) {
    roomserver::v1::InputRoomEventsRequest batch;
    batch.set_create_room_version(absl::StrCat(made.room_version));
    for (size_t i = start; i < std::min(events.size(), start + kInputBatch); ++i) {
      roomserver::v1::InputRoomEvent* in = batch.add_events();
      in->set_kind(roomserver::v1::INPUT_KIND_OUTLIER);
      PERISCOPE_ASSIGN_OR_RETURN(*in->mutable_event_json(), matrix::EncodeCanonicalJson(events[i]));
      in->set_origin(made.server);
    }
    PERISCOPE_ASSIGN_OR_RETURN(roomserver::v1::InputRoomEventsResponse result, rooms_.Input(batch));
    for (const auto& [id, why] : result.rejected()) {
      logging::Warn("federationapi.join_event_rejected",
                    {{"room_id", room_id}, {"event_id", id}, {"reason", why}});
    }
    for (const auto& [id, why] : result.not_processed()) {
      logging::Warn("federationapi.join_event_not_processed",
                    {{"room_id", room_id}, {"event_id", id}, {"reason", why}});
    }
  }

  roomserver::v1::InputRoomEventsRequest last;
  last.set_create_room_version(absl::StrCat(made.room_version));
  roomserver::v1::InputRoomEvent* in = last.add_events();
  in->set_kind(roomserver::v1::INPUT_KIND_NEW);
  PERISCOPE_ASSIGN_OR_RETURN(*in->mutable_event_json(), matrix::EncodeCanonicalJson(join));
  in->set_origin(our_server_name_);
  in->set_has_state(true);
  for (const std::string& id : state_ids) in->add_state_event_ids(id);
  PERISCOPE_ASSIGN_OR_RETURN(roomserver::v1::InputRoomEventsResponse result, rooms_.Input(last));
  for (const auto& [id, why] : result.rejected()) {
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                       absl::StrCat("The join is not allowed by the room's state: ", why));
  }
  for (const auto& [id, why] : result.not_processed()) {
    return BadAnswer(made.server, absl::StrCat("the room's state is incomplete: ", why));
  }
  return join_id;
}

absl::StatusOr<std::string> RoomJoiner::Join(const v1::PerformJoinRequest& request) {
  const std::string& room_id = request.room_id();
  const std::string& user_id = request.user_id();
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(room_id));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::SigilId user, matrix::ParseSigilId(user_id, '@'));
  if (user.server_name != our_server_name_) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       "only local users join through this server");
  }
  // The given servers in order, then the room id's server (room versions before 12 name one).
  std::vector<std::string> servers;
  auto add = [&](const std::string& server) {
    if (server.empty() || server == our_server_name_ || servers.size() >= kMaxCandidates) return;
    if (std::find(servers.begin(), servers.end(), server) == servers.end()) {
      servers.push_back(server);
    }
  };
  for (const std::string& server : request.server_names()) add(server);
  if (size_t colon = room_id.find(':'); colon != std::string::npos) {
    add(room_id.substr(colon + 1));
  }

  PERISCOPE_ASSIGN_OR_RETURN(Template made, MakeJoin(room_id, user_id, servers));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json join,
                             BuildJoin(made, room_id, user_id, request.content_json()));
  PERISCOPE_ASSIGN_OR_RETURN(std::string join_id, matrix::ComputeEventId(join, made.room_version));
  const std::string target =
      absl::StrCat("/_matrix/federation/v2/send_join/", federation::EncodePathArg(room_id), "/",
                   federation::EncodePathArg(join_id));
  PERISCOPE_ASSIGN_OR_RETURN(federation::FederationResponse answer,
                             federation_.Call(made.server, "PUT", target, join, kSendJoinTimeout));
  if (!answer.ok()) return federation::RemoteErrorStatus(made.server, answer);
  // A resident that signed the join (a restricted room's join_authorised_via_users_server) sends
  // it back with its signature; it is the same event (same id) or ignored.
  const matrix::Json& returned = matrix::JsonField(answer.body, "event");
  if (returned.is_object() &&
      matrix::ComputeEventId(returned, made.room_version).value_or("") == join_id) {
    // Only the resident's own signature is taken from its copy: the rest (content the id does not
    // cover, unsigned, other signatures) stays as we built it.
    const matrix::Json& theirs =
        matrix::JsonField(matrix::JsonField(returned, "signatures"), made.server.c_str());
    if (theirs.is_object()) join["signatures"][made.server] = theirs;
  }

  return TakeIn(made, room_id, join, join_id, answer.body);
}

}  // namespace periscope::federationapi
