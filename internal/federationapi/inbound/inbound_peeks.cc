#include "internal/federationapi/inbound/inbound_peeks.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/server_acl.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;

absl::Status LimitExceeded(absl::string_view why, absl::Duration retry_after) {
  return WithMatrixErrorFields(
      MatrixError(absl::StatusCode::kResourceExhausted, errcode::kLimitExceeded, why),
      matrix::Json{{"retry_after_ms", absl::ToInt64Milliseconds(retry_after)}}.dump());
}

absl::Status CheckIds(const std::string& room_id, const std::string& peek_id) {
  if (!matrix::ValidateRoomId(room_id).ok()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                       "roomId is not a room id");
  }
  if (!matrix::ValidPeekId(peek_id, room_id)) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kUnrecognized,
                       "A peek id is 1 to 8 of the characters [0-9a-zA-Z.=_-]");
  }
  return absl::OkStatus();
}

absl::string_view OutcomeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return "ok";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return "bad_request";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return "forbidden";
    case absl::StatusCode::kResourceExhausted:
      return "rate_limited";
    default:
      return "error";
  }
}

}  // namespace

InboundPeekHandler::InboundPeekHandler(RoomInput& rooms, RoomReads& room_reads,
                                       FederationReads& reads, InboundPeekRegistry& registry,
                                       const Clock& clock, InboundPeekOptions options,
                                       PeekRequestCounter counter)
    : rooms_(rooms),
      room_reads_(room_reads),
      reads_(reads),
      registry_(registry),
      options_(options),
      limiter_(clock, options.rate_limit_per_second, options.rate_limit_burst),
      counter_(std::move(counter)) {}

void InboundPeekHandler::Count(absl::string_view request, const absl::Status& status) {
  if (counter_) counter_(request, OutcomeOf(status));
}

absl::StatusOr<matrix::Json> InboundPeekHandler::Peek(
    const std::string& origin, const std::string& room_id, const std::string& peek_id,
    const std::vector<std::string>& supported_versions) {
  absl::StatusOr<matrix::Json> answer = StartPeek(origin, room_id, peek_id, supported_versions);
  Count("peek", answer.status());
  return answer;
}

absl::StatusOr<matrix::Json> InboundPeekHandler::StartPeek(
    const std::string& origin, const std::string& room_id, const std::string& peek_id,
    const std::vector<std::string>& supported_versions) {
  PERISCOPE_RETURN_IF_ERROR(CheckIds(room_id, peek_id));
  if (absl::Duration wait = limiter_.Take(origin); wait > absl::ZeroDuration()) {
    return LimitExceeded("Too many peeks started by this server", wait);
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, rooms_.RoomVersion(room_id));
  if (!version) {
    return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                       absl::StrCat("Unknown room ", room_id));
  }
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json acl, rooms_.ServerAcl(room_id));
  if (!matrix::ServerAllowedByAcl(acl, origin)) {
    return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                       "Forbidden by server ACLs");
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<federationsender::v1::InboundPeek> live,
                             registry_.Find(room_id, origin, peek_id));
  if (live.empty()) {
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<federationsender::v1::InboundPeek> held,
                               registry_.Find("", origin, ""));
    if (static_cast<int>(held.size()) >= options_.max_peeks_per_server) {
      return LimitExceeded(absl::StrCat("This server already holds ", held.size(),
                                        " peeks here, the most one server may; end some first"),
                           options_.renewal_interval);
    }
  }
  roomserver::v1::PerformInboundPeekRequest request;
  request.set_room_id(room_id);
  request.set_peek_id(peek_id);
  request.set_server_name(origin);
  for (const std::string& v : supported_versions) request.add_supported_room_versions(v);
  request.set_renewal_interval_ms(absl::ToInt64Milliseconds(options_.renewal_interval));
  PERISCOPE_ASSIGN_OR_RETURN(roomserver::v1::PerformInboundPeekResponse snapshot,
                             rooms_.InboundPeek(request));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json answer, Answer(room_id, snapshot));
  // The peek is registered when the federationsender reads new_inbound_peek from the stream,
  // usually within milliseconds: answer once it has, so that a renewal or a DELETE sent at once
  // finds it. (Past the wait the answer goes anyway: the registration follows, and a renewal
  // waits for it too.)
  if (!WaitForRegistration(room_id, origin, peek_id, snapshot.latest_event_id())) {
    logging::Warn("federationapi.peek_answered_before_registration",
                  {{"room_id", room_id}, {"origin", origin}, {"peek_id", peek_id}});
  }
  return answer;
}

bool InboundPeekHandler::WaitForRegistration(const std::string& room_id, const std::string& origin,
                                             const std::string& peek_id,
                                             const std::string& latest_event_id) {
  constexpr absl::Duration kPoll = absl::Milliseconds(10);
  for (absl::Duration waited; waited < options_.registration_wait; waited += kPoll) {
    absl::StatusOr<std::vector<federationsender::v1::InboundPeek>> found =
        registry_.Find(room_id, origin, peek_id);
    if (found.ok() && !found->empty() &&
        (latest_event_id.empty() || found->front().latest_event_id() == latest_event_id)) {
      return true;
    }
    absl::SleepFor(kPoll);
  }
  return false;
}

absl::StatusOr<matrix::Json> InboundPeekHandler::Answer(
    const std::string& room_id, const roomserver::v1::PerformInboundPeekResponse& snapshot) {
  int room_version = 0;
  if (!absl::SimpleAtoi(snapshot.room_version(), &room_version)) {
    return absl::InternalError("the roomserver named no room version");
  }
  std::set<std::string> dendrite_state(snapshot.common_state_ids().begin(),
                                       snapshot.common_state_ids().end());
  std::set<std::string> wanted = dendrite_state;
  matrix::Json per_extremity = matrix::Json::object();
  for (const auto& [extremity, ids] : snapshot.latest_event_state_ids()) {
    wanted.insert(extremity);
    per_extremity[extremity] = matrix::Json::array();
    for (const std::string& id : ids.event_ids()) {
      wanted.insert(id);
      per_extremity[extremity].push_back(id);
      if (extremity == snapshot.latest_event_id()) dendrite_state.insert(id);
    }
  }
  wanted.insert(snapshot.latest_event_id());
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<StoredPdu> events,
                             room_reads_.EventsById({wanted.begin(), wanted.end()}));
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<StoredPdu> chain, reads_.AuthChain(events, room_version));
  // Dendrite's auth_chain must hold every auth event of the state, those in the state too (the
  // create event above all: Dendrite refuses an auth_chain without it).
  std::set<std::string> authorising;
  for (const std::vector<StoredPdu>* list : {&events, &chain}) {
    for (const StoredPdu& e : *list) {
      matrix::Json event = matrix::Json::parse(e.json, nullptr, false);
      if (!event.is_object()) continue;
      for (const std::string& id : matrix::AuthEventIdsOf(event, room_version)) {
        authorising.insert(id);
      }
    }
  }
  if (room_version >= 12) authorising.insert(matrix::CreateEventIdOfRoom(room_id));
  matrix::Json state = matrix::Json::array();
  matrix::Json all = matrix::Json::array();
  matrix::Json latest;
  for (const StoredPdu& e : events) {
    matrix::Json pdu = PduForFederation(e);
    if (dendrite_state.contains(e.event_id)) state.push_back(pdu);
    if (e.event_id == snapshot.latest_event_id()) latest = pdu;
    all.push_back(std::move(pdu));
  }
  if (latest.is_null()) return absl::InternalError("the snapshot's latest event is not stored");
  matrix::Json auth_chain = matrix::Json::array();
  for (const StoredPdu& e : events) {
    if (authorising.contains(e.event_id)) auth_chain.push_back(PduForFederation(e));
  }
  for (const StoredPdu& e : chain) {
    matrix::Json pdu = PduForFederation(e);
    auth_chain.push_back(pdu);
    all.push_back(std::move(pdu));
  }
  matrix::Json common = matrix::Json::array();
  for (const std::string& id : snapshot.common_state_ids()) common.push_back(id);
  return matrix::Json{{"latest_event_state_ids", std::move(per_extremity)},
                      {"common_state_ids", std::move(common)},
                      {"events", std::move(all)},
                      {"renewal_interval", snapshot.renewal_interval_ms()},
                      {"state", std::move(state)},
                      {"auth_chain", std::move(auth_chain)},
                      {"latest_event", std::move(latest)},
                      {"room_version", snapshot.room_version()}};
}

absl::StatusOr<matrix::Json> InboundPeekHandler::Renew(const std::string& origin,
                                                       const std::string& room_id,
                                                       const std::string& peek_id) {
  auto renew = [&]() -> absl::StatusOr<matrix::Json> {
    PERISCOPE_RETURN_IF_ERROR(CheckIds(room_id, peek_id));
    // A server the room's ACL came to deny since its PUT renews nothing.
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json acl, rooms_.ServerAcl(room_id));
    if (!matrix::ServerAllowedByAcl(acl, origin)) {
      return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden,
                         "Forbidden by server ACLs");
    }
    absl::StatusOr<int64_t> interval = registry_.Renew(room_id, origin, peek_id);
    // A renewal soon after a PUT answered before its registration (the federationsender was
    // behind on the room's stream) waits for the registration as the PUT did. The wait is
    // rate-limited as starts are: renewing unknown peeks cannot tie up threads.
    if (absl::IsNotFound(interval.status())) {
      if (absl::Duration wait = limiter_.Take(origin); wait > absl::ZeroDuration()) {
        return LimitExceeded("Too many peek requests from this server", wait);
      }
      if (WaitForRegistration(room_id, origin, peek_id, "")) {
        interval = registry_.Renew(room_id, origin, peek_id);
      }
    }
    PERISCOPE_RETURN_IF_ERROR(interval.status());
    return matrix::Json{{"renewal_interval", *interval}};
  };
  absl::StatusOr<matrix::Json> answer = renew();
  Count("renew", answer.status());
  return answer;
}

absl::StatusOr<matrix::Json> InboundPeekHandler::Unpeek(const std::string& origin,
                                                        const std::string& room_id,
                                                        const std::string& peek_id) {
  auto unpeek = [&]() -> absl::StatusOr<matrix::Json> {
    PERISCOPE_RETURN_IF_ERROR(CheckIds(room_id, peek_id));
    absl::Status deleted = registry_.Delete(room_id, origin, peek_id);
    if (!deleted.ok() && !absl::IsNotFound(deleted)) return deleted;
    // A start of this peek may still be in the room's stream, not yet registered: a first PUT
    // answered past its wait, or a repeated PUT (answered as soon as the earlier registration
    // matched). Its end goes into the stream behind it, so the peek cannot outlive this DELETE.
    // For a peek not registered, that write is rate-limited as starts are (429: the peer tries
    // again rather than taking a 404 for done); a failure to write it is an error the peer
    // retries, not a 404.
    if (!deleted.ok()) {
      if (absl::Duration wait = limiter_.Take(origin); wait > absl::ZeroDuration()) {
        return LimitExceeded("Too many peek requests from this server", wait);
      }
    }
    roomserver::v1::PerformRetireInboundPeekRequest retire;
    retire.set_room_id(room_id);
    retire.set_server_name(origin);
    retire.set_peek_id(peek_id);
    absl::Status retired = rooms_.RetireInboundPeek(retire);
    if (!retired.ok() && !absl::IsNotFound(retired)) return retired;
    if (!deleted.ok()) return deleted;  // 404: nothing live was ended
    return matrix::Json::object();
  };
  absl::StatusOr<matrix::Json> answer = unpeek();
  Count("unpeek", answer.status());
  return answer;
}

}  // namespace periscope::federationapi
