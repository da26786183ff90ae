#include "internal/federationapi/outbound/room_peeker.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "internal/federationapi/inbound/pdu_checks.h"
#include "internal/federationapi/inbound/state_input.h"
#include "pkg/crypto/random.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/room_versions.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;

// One server's PUT /peek answer: the peeked server snapshots the room, which may be a big one.
constexpr absl::Duration kPeekTimeout = absl::Seconds(60);
constexpr int64_t kMinRenewalIntervalMs = 1000;
constexpr int64_t kMaxRenewalIntervalMs = int64_t{7} * 24 * 3600 * 1000;
constexpr char kPeekIdAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

absl::Status BadAnswer(const std::string& server, absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnavailable, errcode::kUnknown,
                     absl::StrCat("The peek answer of ", server, " cannot be used: ", why));
}

// The room version an answer names, or its create event's (version 1 if neither says).
std::string VersionOf(const matrix::Json& answer, const matrix::Json& events) {
  std::string named = matrix::StringField(answer, "room_version");
  if (!named.empty()) return named;
  if (events.is_array()) {
    for (const matrix::Json& e : events) {
      if (matrix::StringField(e, "type") == "m.room.create") {
        std::string v = matrix::StringField(matrix::ContentOf(e), "room_version");
        return v.empty() ? "1" : v;
      }
    }
  }
  return "1";
}

int64_t DepthOf(const matrix::Json& event) {
  const matrix::Json& depth = matrix::JsonField(event, "depth");
  return depth.is_number_integer() ? depth.get<int64_t>() : 0;
}

}  // namespace

absl::StatusOr<RoomPeeker::Snapshot> RoomPeeker::ParseAnswer(const matrix::Json& answer,
                                                             const std::string& server) {
  if (!answer.is_object()) return BadAnswer(server, "it is not a JSON object");
  Snapshot out;
  const matrix::Json& interval = matrix::JsonField(answer, "renewal_interval");
  if (!interval.is_number_integer() || interval.get<int64_t>() <= 0) {
    return BadAnswer(server, "renewal_interval is not a positive integer");
  }
  // Kept within reason: a 1 ms interval would have us renew every sweep, a huge one overflow.
  out.renewal_interval_ms =
      std::clamp<int64_t>(interval.get<int64_t>(), kMinRenewalIntervalMs, kMaxRenewalIntervalMs);
  const matrix::Json& per_extremity = matrix::JsonField(answer, "latest_event_state_ids");
  const matrix::Json& events = matrix::JsonField(answer, "events");
  const bool final_shape = per_extremity.is_object() && !per_extremity.empty() && events.is_array();
  const std::string version_name =
      VersionOf(answer, final_shape ? events : matrix::JsonField(answer, "state"));
  absl::StatusOr<int> version = matrix::ParseRoomVersion(version_name);
  if (!version.ok() || *version < matrix::kMinSupportedRoomVersion) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kIncompatibleRoomVersion,
                       absl::StrCat("The room's version \"", version_name, "\" (from ", server,
                                    ") is not one this server supports"));
  }
  out.room_version = *version;
  if (!final_shape) {
    // Dendrite's 2020-09 shape.
    out.state = matrix::JsonField(answer, "state");
    out.chain = matrix::JsonField(answer, "auth_chain");
    out.latest = matrix::JsonField(answer, "latest_event");
    if (!out.state.is_array() || !out.chain.is_array() || !out.latest.is_object()) {
      return BadAnswer(server,
                       "it has neither latest_event_state_ids and events, nor state, "
                       "auth_chain and latest_event");
    }
    return out;
  }
  std::map<std::string, const matrix::Json*> by_id;
  for (const matrix::Json& e : events) {
    absl::StatusOr<std::string> id = matrix::ComputeEventId(e, out.room_version);
    if (id.ok()) by_id.emplace(*id, &e);
  }
  // The deepest forward extremity is the latest event (the first, among equals).
  std::string latest_id;
  for (const auto& [id, ids] : per_extremity.items()) {
    auto found = by_id.find(id);
    if (found == by_id.end()) return BadAnswer(server, "it names an event it does not carry");
    if (latest_id.empty() || DepthOf(*found->second) > DepthOf(*by_id.find(latest_id)->second)) {
      latest_id = id;
    }
  }
  auto latest_state = per_extremity.find(latest_id);
  if (latest_id.empty() || latest_state == per_extremity.end()) {
    return BadAnswer(server, "it names no latest event");
  }
  std::set<std::string> state_ids;
  for (const matrix::Json* list :
       {&matrix::JsonField(answer, "common_state_ids"), &*latest_state}) {
    if (!list->is_array()) return BadAnswer(server, "a list of state ids is not a list");
    for (const matrix::Json& id : *list) {
      if (!id.is_string()) return BadAnswer(server, "a state id is not a string");
      state_ids.insert(id.get<std::string>());
    }
  }
  for (const std::string& id : state_ids) {
    auto found = by_id.find(id);
    if (found == by_id.end()) return BadAnswer(server, "it names an event it does not carry");
    out.state.push_back(*found->second);
  }
  for (const auto& [id, event] : by_id) {
    if (id != latest_id && !state_ids.contains(id)) out.chain.push_back(*event);
  }
  out.latest = *by_id.find(latest_id)->second;
  return out;
}

absl::Status RoomPeeker::TakeIn(const std::string& room_id, const std::string& server,
                                const Snapshot& snapshot) {
  // One event per state key: a state that names two is not a state (Dendrite refuses it too).
  std::set<std::pair<std::string, std::string>> keys;
  for (const matrix::Json& e : snapshot.state) {
    const matrix::Json& key = matrix::JsonField(e, "state_key");
    if (!key.is_string()) return BadAnswer(server, "a state event has no state_key");
    if (!keys.emplace(matrix::StringField(e, "type"), key.get<std::string>()).second) {
      return BadAnswer(server, "its state has two events for one state key");
    }
  }
  PERISCOPE_ASSIGN_OR_RETURN(
      std::set<std::string> state_ids,
      InputSentState(snapshot.state, snapshot.chain, room_id, snapshot.room_version, server,
                     /*create_room=*/true, keyring_, rooms_));
  absl::StatusOr<CheckedPdu> latest = CheckPdu(snapshot.latest, snapshot.room_version, keyring_);
  if (!latest.ok()) {
    return BadAnswer(server, absl::StrCat("its latest event: ", latest.status().message()));
  }
  if (latest->room_id != room_id) return BadAnswer(server, "its latest event is of another room");
  // The state after the latest event, as the state before it (see the header).
  state_ids.erase(latest->event_id);
  roomserver::v1::InputRoomEventsRequest request;
  request.set_create_room_version(absl::StrCat(snapshot.room_version));
  roomserver::v1::InputRoomEvent* in = request.add_events();
  in->set_kind(roomserver::v1::INPUT_KIND_NEW);
  PERISCOPE_ASSIGN_OR_RETURN(*in->mutable_event_json(), matrix::EncodeCanonicalJson(latest->event));
  in->set_origin(server);
  in->set_has_state(true);
  in->set_peek_snapshot(true);
  for (const std::string& id : state_ids) in->add_state_event_ids(id);
  PERISCOPE_ASSIGN_OR_RETURN(roomserver::v1::InputRoomEventsResponse result, rooms_.Input(request));
  for (const auto& [id, why] : result.rejected()) {
    return BadAnswer(server, absl::StrCat("its latest event is refused by its state: ", why));
  }
  for (const auto& [id, why] : result.not_processed()) {
    return BadAnswer(server, absl::StrCat("its state is incomplete: ", why));
  }
  if (result.soft_failed_event_ids_size() > 0) {
    return BadAnswer(server, "its latest event does not fit the room's state here");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PerformOutboundPeekResponse> RoomPeeker::PeekThrough(const std::string& room_id,
                                                                        const std::string& server,
                                                                        absl::Duration timeout) {
  const std::string peek_id = crypto::RandomString(8, kPeekIdAlphabet);
  const std::string path = absl::StrCat("/_matrix/federation/v1/peek/",
                                        federation::EncodePathArg(room_id), "/", peek_id);
  const std::string target = path + matrix::SupportedRoomVersionsQuery();
  PERISCOPE_ASSIGN_OR_RETURN(
      federation::FederationResponse answer,
      federation_.Call(server, "PUT", target, matrix::Json::object(), timeout));
  if (!answer.ok()) return federation::RemoteErrorStatus(server, answer);
  auto take_in = [&]() -> absl::StatusOr<v1::PerformOutboundPeekResponse> {
    PERISCOPE_ASSIGN_OR_RETURN(Snapshot snapshot, ParseAnswer(answer.body, server));
    PERISCOPE_RETURN_IF_ERROR(TakeIn(room_id, server, snapshot));
    PERISCOPE_RETURN_IF_ERROR(
        recorder_.Record(room_id, server, peek_id, snapshot.renewal_interval_ms));
    v1::PerformOutboundPeekResponse response;
    response.set_server_name(server);
    response.set_room_version(absl::StrCat(snapshot.room_version));
    return response;
  };
  absl::StatusOr<v1::PerformOutboundPeekResponse> taken = take_in();
  if (!taken.ok()) {
    // An answer we cannot use: the peek is cancelled (MSC2444), best effort.
    absl::StatusOr<federation::FederationResponse> cancelled =
        federation_.Call(server, "DELETE", path, std::nullopt, absl::Seconds(10));
    logging::Warn("federationapi.peek_answer_refused",
                  {{"room_id", room_id},
                   {"server", server},
                   {"error", taken.status()},
                   {"cancelled", cancelled.ok() && cancelled->ok()}});
  }
  return taken;
}

absl::StatusOr<v1::PerformOutboundPeekResponse> RoomPeeker::Peek(
    const v1::PerformOutboundPeekRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(request.room_id()));
  std::shared_ptr<Attempt> attempt;
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<Attempt>& slot = in_flight_[request.room_id()];
    if (slot == nullptr) {
      slot = std::make_shared<Attempt>();
      first = true;
    }
    attempt = slot;
  }
  if (!first) {
    if (!attempt->done.WaitForNotificationWithTimeout(kWaitForOtherPeek)) {
      return MatrixError(
          absl::StatusCode::kUnavailable, errcode::kUnknown,
          absl::StrCat("Another peek of ", request.room_id(), " is still under way; try again"));
    }
    return attempt->result;
  }
  attempt->result = PeekNow(request);
  {
    absl::MutexLock lock(&mu_);
    in_flight_.erase(request.room_id());
  }
  attempt->done.Notify();
  return attempt->result;
}

absl::StatusOr<v1::PerformOutboundPeekResponse> RoomPeeker::PeekNow(
    const v1::PerformOutboundPeekRequest& request) {
  const std::string& room_id = request.room_id();
  std::vector<std::string> servers;
  auto add = [&](const std::string& server) {
    if (server.empty() || server == our_server_name_ || servers.size() >= kMaxCandidates) return;
    if (std::find(servers.begin(), servers.end(), server) == servers.end()) {
      servers.push_back(server);
    }
  };
  for (const std::string& server : request.server_names()) add(server);
  if (size_t colon = room_id.find(':'); colon != std::string::npos) add(room_id.substr(colon + 1));

  // Several local devices peeking one room share one peek.
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<PeekRecorder::Live> live, recorder_.LivePeek(room_id));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> known, rooms_.RoomVersion(room_id));
  if (live && known) {
    // Recorded again: the peek then waits for this device's new_peek before it may end, even if
    // the devices that looked through it so far all go meanwhile.
    PERISCOPE_RETURN_IF_ERROR(
        recorder_.Record(room_id, live->server_name, live->peek_id, live->renewal_interval_ms));
    v1::PerformOutboundPeekResponse shared;
    shared.set_server_name(live->server_name);
    shared.set_room_version(absl::StrCat(*known));
    return shared;
  }
  absl::StatusOr<v1::PerformOutboundPeekResponse> result =
      MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                  absl::StrCat("No known servers for room ", room_id));
  if (being_joined_ != nullptr) being_joined_->Begin(room_id);
  // The candidates share one budget, so that the answer comes within the caller's deadline.
  const absl::Time deadline = clock_->Now() + kPeekBudget;
  for (const std::string& server : servers) {
    const absl::Duration left = deadline - clock_->Now();
    if (left <= absl::ZeroDuration()) break;  // the last server's answer stands
    result = PeekThrough(room_id, server, std::min(kPeekTimeout, left));
    if (result.ok()) break;
    // A refusal is the room's answer; an unreachable or unknowing server leaves the next one.
    const absl::StatusCode code = result.status().code();
    if (code == absl::StatusCode::kPermissionDenied || code == absl::StatusCode::kInvalidArgument) {
      break;
    }
  }
  if (being_joined_ != nullptr) {
    if (result.ok() && process_parked_) {
      DrainParked(room_id, 0);
    } else {
      std::vector<RoomsBeingJoined::Parked> parked = being_joined_->Finish(room_id, result.ok());
      if (!parked.empty() && process_parked_) process_parked_(std::move(parked), nullptr);
    }
  }
  return result;
}

void RoomPeeker::DrainParked(const std::string& room_id, int round) {
  std::vector<RoomsBeingJoined::Parked> parked = being_joined_->TakeParked(room_id);
  if (parked.empty() || round >= kMaxParkedRounds) {
    std::vector<RoomsBeingJoined::Parked> rest = being_joined_->Finish(room_id, true);
    parked.insert(parked.end(), std::make_move_iterator(rest.begin()),
                  std::make_move_iterator(rest.end()));
    if (!parked.empty()) process_parked_(std::move(parked), nullptr);
    return;
  }
  process_parked_(std::move(parked), [this, room_id, round] { DrainParked(room_id, round + 1); });
}

}  // namespace periscope::federationapi
