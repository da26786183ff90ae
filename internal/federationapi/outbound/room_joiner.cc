#include "internal/federationapi/outbound/room_joiner.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "internal/federationapi/inbound/pdu_checks.h"
#include "internal/federationapi/inbound/state_input.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/room_versions.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;

// make_join and send_join wait for a resident that may be busy with a big room.
constexpr absl::Duration kMakeJoinTimeout = absl::Seconds(30);
constexpr absl::Duration kSendJoinTimeout = absl::Seconds(90);

absl::Status BadAnswer(const std::string& server, absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnavailable, errcode::kUnknown,
                     absl::StrCat("The answer of ", server, " cannot be used: ", why));
}

}  // namespace

absl::Duration RoomJoiner::Remaining(absl::Time deadline, absl::Duration cap) const {
  return std::max(absl::ZeroDuration(), std::min(cap, deadline - clock_.Now()));
}

absl::StatusOr<RoomJoiner::Template> RoomJoiner::MakeMembership(
    const std::string& room_id, const std::string& user_id, const std::vector<std::string>& servers,
    const std::string& membership, absl::Time deadline) {
  std::string target =
      absl::StrCat("/_matrix/federation/v1/make_", membership, "/",
                   federation::EncodePathArg(room_id), "/", federation::EncodePathArg(user_id));
  // A join says which room versions we can take; a leave needs none (the room is known).
  if (membership == "join") target += matrix::SupportedRoomVersionsQuery();
  absl::Status last = MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                                  absl::StrCat("No known servers for room ", room_id));
  for (const std::string& server : servers) {
    const absl::Duration left = Remaining(deadline, kMakeJoinTimeout);
    // Too little time left to ask another server and still send the join: the caller's wait
    // would end first, and a join finishing after it is one the client retries into a second.
    if (left < kMinTimeToAsk) {
      return MatrixError(absl::StatusCode::kDeadlineExceeded, errcode::kUnknown,
                         absl::StrCat("No server answered in time (last: ", last.message(), ")"));
    }
    absl::StatusOr<federation::FederationResponse> answer =
        federation_.Call(server, "GET", target, std::nullopt, left);
    if (!answer.ok()) {
      last = answer.status();
      continue;
    }
    if (!answer->ok()) {
      last = federation::RemoteErrorStatus(server, *answer);
      // A refusal is the room's answer (as Synapse treats it); a server that does not know the
      // room, or failed, or has no user who may vouch for a restricted join, leaves the next one
      // to ask.
      const std::string code = matrix::StringField(answer->body, "errcode");
      const bool cannot_vouch =
          code == "M_UNABLE_TO_AUTHORISE_JOIN" || code == "M_UNABLE_TO_GRANT_JOIN";
      if ((answer->status == 400 && !cannot_vouch) || answer->status == 403) return last;
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
                         absl::StrCat(server, " answered make_", membership, " for room version \"",
                                      version_name, "\", which this server does not support"));
      continue;
    }
    if (!event.is_object() || matrix::StringField(event, "type") != "m.room.member" ||
        matrix::StringField(event, "sender") != user_id ||
        matrix::StringField(event, "state_key") != user_id ||
        matrix::StringField(event, "room_id") != room_id ||
        matrix::StringField(matrix::ContentOf(event), "membership") != membership ||
        !matrix::JsonField(event, "prev_events").is_array() ||
        !matrix::JsonField(event, "auth_events").is_array()) {
      last = BadAnswer(server, absl::StrCat("the make_", membership, " template is not the user's ",
                                            membership, " in the room"));
      continue;
    }
    return Template{server, *version, event};
  }
  return last;
}

absl::StatusOr<matrix::Json> RoomJoiner::BuildMembership(const Template& made,
                                                         const std::string& room_id,
                                                         const std::string& user_id,
                                                         const std::string& content_json,
                                                         const std::string& membership) {
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
  merged["membership"] = membership;

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
  PERISCOPE_ASSIGN_OR_RETURN(std::set<std::string> state_ids,
                             InputSentState(state, chain, room_id, made.room_version, made.server,
                                            /*create_room=*/true, keyring_, rooms_));

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

std::vector<std::string> RoomJoiner::Candidates(
    const std::string& room_id,
    const google::protobuf::RepeatedPtrField<std::string>& given) const {
  // The given servers in order, then the room id's server (room versions before 12 name one).
  std::vector<std::string> servers;
  auto add = [&](const std::string& server) {
    if (server.empty() || server == our_server_name_ || servers.size() >= kMaxCandidates) return;
    if (std::find(servers.begin(), servers.end(), server) == servers.end()) {
      servers.push_back(server);
    }
  };
  for (const std::string& server : given) add(server);
  if (size_t colon = room_id.find(':'); colon != std::string::npos) {
    add(room_id.substr(colon + 1));
  }
  return servers;
}

absl::StatusOr<RoomJoiner::Signed> RoomJoiner::MakeAndSign(
    const std::string& room_id, const std::string& user_id,
    const google::protobuf::RepeatedPtrField<std::string>& server_names,
    const std::string& content_json, const std::string& membership, absl::Time deadline) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(room_id));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::SigilId user, matrix::ParseSigilId(user_id, '@'));
  if (user.server_name != our_server_name_) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       absl::StrCat("only local users ", membership, " through this server"));
  }
  Signed out;
  PERISCOPE_ASSIGN_OR_RETURN(
      out.made,
      MakeMembership(room_id, user_id, Candidates(room_id, server_names), membership, deadline));
  PERISCOPE_ASSIGN_OR_RETURN(out.event,
                             BuildMembership(out.made, room_id, user_id, content_json, membership));
  PERISCOPE_ASSIGN_OR_RETURN(out.event_id,
                             matrix::ComputeEventId(out.event, out.made.room_version));
  return out;
}

absl::StatusOr<std::string> RoomJoiner::Join(const v1::PerformJoinRequest& request) {
  const std::pair<std::string, std::string> key(request.room_id(), request.user_id());
  std::shared_ptr<Attempt> attempt;
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<Attempt>& slot = in_flight_[key];
    if (slot == nullptr) {
      slot = std::make_shared<Attempt>();
      first = true;
    }
    attempt = slot;
  }
  if (!first) {
    // The same user's join of the same room is already under way (a client that gave up waiting
    // and asked again): this one takes its outcome rather than send a second join.
    attempt->done.WaitForNotification();
    return attempt->result;
  }
  if (being_joined_ != nullptr) being_joined_->Begin(request.room_id());
  attempt->result = JoinNow(request);
  if (being_joined_ != nullptr) {
    // Joined or not, what came meanwhile is processed (into a room still unknown, it is ignored
    // as any /send would ignore it).
    std::vector<RoomsBeingJoined::Parked> parked =
        being_joined_->Finish(request.room_id(), attempt->result.ok());
    if (!parked.empty() && process_parked_) process_parked_(std::move(parked));
  }
  {
    absl::MutexLock lock(&mu_);
    in_flight_.erase(key);
  }
  attempt->done.Notify();
  return attempt->result;
}

absl::StatusOr<std::string> RoomJoiner::JoinNow(const v1::PerformJoinRequest& request) {
  const std::string& room_id = request.room_id();
  const absl::Time deadline = clock_.Now() + kBudget;
  PERISCOPE_ASSIGN_OR_RETURN(Signed signed_join,
                             MakeAndSign(room_id, request.user_id(), request.server_names(),
                                         request.content_json(), "join", deadline));
  const Template& made = signed_join.made;
  matrix::Json& join = signed_join.event;
  const std::string& join_id = signed_join.event_id;
  const std::string target =
      absl::StrCat("/_matrix/federation/v2/send_join/", federation::EncodePathArg(room_id), "/",
                   federation::EncodePathArg(join_id));
  PERISCOPE_ASSIGN_OR_RETURN(
      federation::FederationResponse answer,
      federation_.Call(made.server, "PUT", target, join, Remaining(deadline, kSendJoinTimeout)));
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
    // Kept only if it verifies: a bad one would make other servers refuse our user's join.
    if (theirs.is_object() &&
        VerifyServerSignature(returned, made.server, made.room_version, keyring_).ok()) {
      join["signatures"][made.server] = theirs;
    }
  }

  return TakeIn(made, room_id, join, join_id, answer.body);
}

absl::StatusOr<std::string> RoomJoiner::Leave(const v1::PerformLeaveRequest& request) {
  const std::string& room_id = request.room_id();
  const absl::Time deadline = clock_.Now() + kBudget;
  PERISCOPE_ASSIGN_OR_RETURN(Signed signed_leave,
                             MakeAndSign(room_id, request.user_id(), request.server_names(),
                                         request.content_json(), "leave", deadline));
  const Template& made = signed_leave.made;
  const matrix::Json& leave = signed_leave.event;
  const std::string& leave_id = signed_leave.event_id;
  const std::string target =
      absl::StrCat("/_matrix/federation/v2/send_leave/", federation::EncodePathArg(room_id), "/",
                   federation::EncodePathArg(leave_id));
  PERISCOPE_ASSIGN_OR_RETURN(
      federation::FederationResponse answer,
      federation_.Call(made.server, "PUT", target, leave, Remaining(deadline, kSendJoinTimeout)));
  if (!answer.ok()) return federation::RemoteErrorStatus(made.server, answer);
  // The room is not ours: the leave is recorded beside the invite it answers, so that the user's
  // /sync moves the room from invited to left.
  roomserver::v1::InputOutOfBandMembershipRequest record;
  PERISCOPE_ASSIGN_OR_RETURN(*record.mutable_event_json(), matrix::EncodeCanonicalJson(leave));
  record.set_room_version(absl::StrCat(made.room_version));
  PERISCOPE_RETURN_IF_ERROR(rooms_.OutOfBandMembership(record));
  return leave_id;
}

}  // namespace periscope::federationapi
