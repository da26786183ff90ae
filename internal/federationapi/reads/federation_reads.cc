#include "internal/federationapi/reads/federation_reads.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "internal/federationapi/reads/server_visibility.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/server_acl.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;

absl::Status NotFound(absl::string_view what) {
  return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound, what);
}
absl::Status Forbidden(absl::string_view why) {
  return MatrixError(absl::StatusCode::kPermissionDenied, errcode::kForbidden, why);
}

}  // namespace

matrix::Json PduForFederation(const StoredPdu& pdu) {
  matrix::Json event = matrix::Json::parse(pdu.json, nullptr, false);
  if (event.is_object()) event.erase("unsigned");
  return event;
}

absl::StatusOr<FederationReads::Readable> FederationReads::ReadableEvent(
    const std::string& origin, const std::string& expected_room_id, const std::string& event_id) {
  absl::StatusOr<std::vector<StoredPdu>> found = reads_.EventsById({event_id});
  if (!found.ok()) return found.status();
  if (found->empty()) return NotFound("Unknown event");
  StoredPdu event = std::move(found->front());
  if (!expected_room_id.empty() && event.room_id != expected_room_id) {
    return NotFound("The event is not in this room");
  }
  bool in_room = true;
  absl::StatusOr<int> version = RoomAccess(origin, event.room_id, &in_room);
  if (!version.ok()) return version.status();
  absl::StatusOr<std::vector<StoredPdu>> before =
      reads_.StateAtEvent(event.room_id, event_id, false);
  if (absl::IsNotFound(before.status())) {
    // An outlier has no state: it is readable as an auth event is (Synapse treats it as shared).
    before = std::vector<StoredPdu>{};
  }
  if (!before.ok()) return before.status();
  if (!ServerMaySeeEvent(*before, origin, in_room)) {
    return Forbidden("The requesting server may not see this event");
  }
  return Readable{std::move(event), *version};
}

absl::StatusOr<int> FederationReads::RoomAccess(const std::string& origin,
                                                const std::string& room_id, bool* in_room) {
  absl::StatusOr<std::optional<int>> version = rooms_.RoomVersion(room_id);
  if (!version.ok()) return version.status();
  if (!*version) return NotFound("Unknown room");
  absl::StatusOr<std::vector<StoredPdu>> current = reads_.CurrentState(room_id);
  if (!current.ok()) return current.status();
  for (const StoredPdu& pdu : *current) {
    matrix::Json e = matrix::Json::parse(pdu.json, nullptr, false);
    if (e.is_object() && matrix::StringField(e, "type") == "m.room.server_acl" &&
        matrix::StringField(e, "state_key").empty() &&
        !matrix::ServerAllowedByAcl(matrix::ContentOf(e), origin)) {
      return Forbidden("The room's server ACL denies this server");
    }
  }
  *in_room = ServerHasJoinedMember(*current, origin);
  // MSC2444: a world_readable room's world_readable history is served to servers not in it
  // (those peeking it fill their gaps this way).
  if (!*in_room && !WorldReadable(*current)) {
    return Forbidden("The requesting server has no member in the room");
  }
  return **version;
}

absl::StatusOr<std::vector<matrix::Json>> FederationReads::WalkBack(
    const std::string& origin, const std::string& room_id, int room_version,
    const std::vector<std::string>& start, const std::set<std::string>& stop, bool include_start,
    size_t limit, bool in_room) {
  std::vector<matrix::Json> out;
  std::set<std::string> queued(stop.begin(), stop.end());
  std::vector<std::string> frontier;
  auto enqueue_prevs = [&](const matrix::Json& event) {
    const matrix::Json& prevs = matrix::JsonField(event, "prev_events");
    if (!prevs.is_array()) return;
    for (const auto& p : prevs) {
      if (p.is_string() && queued.insert(p.get<std::string>()).second) {
        frontier.push_back(p.get<std::string>());
      }
    }
  };
  if (include_start) {
    for (const std::string& id : start) {
      if (queued.insert(id).second) frontier.push_back(id);
    }
  } else {
    absl::StatusOr<std::vector<StoredPdu>> first = reads_.EventsById(start);
    if (!first.ok()) return first.status();
    for (const StoredPdu& pdu : *first) {
      if (pdu.room_id != room_id) continue;
      queued.insert(pdu.event_id);
      enqueue_prevs(matrix::Json::parse(pdu.json, nullptr, false));
    }
  }
  while (!frontier.empty() && out.size() < limit) {
    size_t take = std::min(frontier.size(), limit - out.size());
    std::vector<std::string> wanted(frontier.begin(), frontier.begin() + static_cast<long>(take));
    frontier.erase(frontier.begin(), frontier.begin() + static_cast<long>(take));
    absl::StatusOr<std::vector<StoredPdu>> found = reads_.EventsById(wanted);
    if (!found.ok()) return found.status();
    for (const StoredPdu& pdu : *found) {
      if (pdu.room_id != room_id) continue;  // never another room's event
      matrix::Json event = PduForFederation(pdu);
      if (!event.is_object()) continue;
      enqueue_prevs(event);
      absl::StatusOr<std::vector<StoredPdu>> before =
          reads_.StateAtEvent(room_id, pdu.event_id, false);
      if (!before.ok() && !absl::IsNotFound(before.status())) return before.status();
      // An outlier has no state: served as shared (Synapse does the same) to a server in the
      // room, and not at all to one that is not.
      bool visible = before.ok() ? ServerMaySeeEvent(*before, origin, in_room) : in_room;
      // A server not in the room gets only world_readable history, not even an outline of the
      // rest (its prev events are walked through all the same).
      if (!visible && !in_room) continue;
      if (!visible) {
        absl::StatusOr<matrix::Json> redacted = matrix::RedactEvent(event, room_version);
        if (!redacted.ok()) continue;
        event = *std::move(redacted);
      }
      out.push_back(std::move(event));
    }
  }
  return out;
}

absl::StatusOr<matrix::Json> FederationReads::MissingEvents(const std::string& origin,
                                                            const std::string& room_id,
                                                            const matrix::Json& body) {
  auto ids = [&](const char* key) -> absl::StatusOr<std::vector<std::string>> {
    auto bad = [key] {
      return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                         absl::StrCat(key, " must be a list of at most 100 event ids"));
    };
    const matrix::Json& list = matrix::JsonField(body, key);
    if (!list.is_array() || list.size() > 100) return bad();
    std::vector<std::string> out;
    for (const auto& id : list) {
      if (!id.is_string()) return bad();
      out.push_back(id.get<std::string>());
    }
    return out;
  };
  absl::StatusOr<std::vector<std::string>> earliest = ids("earliest_events");
  if (!earliest.ok()) return earliest.status();
  absl::StatusOr<std::vector<std::string>> latest = ids("latest_events");
  if (!latest.ok()) return latest.status();
  int64_t limit = 10;
  const matrix::Json& given = matrix::JsonField(body, "limit");
  if (given.is_number_integer()) limit = std::clamp<int64_t>(given.get<int64_t>(), 0, 20);
  bool in_room = true;
  absl::StatusOr<int> version = RoomAccess(origin, room_id, &in_room);
  if (!version.ok()) return version.status();
  absl::StatusOr<std::vector<matrix::Json>> events = WalkBack(
      origin, room_id, *version, *latest, std::set<std::string>(earliest->begin(), earliest->end()),
      false, static_cast<size_t>(limit), in_room);
  if (!events.ok()) return events.status();
  return matrix::Json{{"events", *std::move(events)}};
}

absl::StatusOr<matrix::Json> FederationReads::Backfill(const std::string& origin,
                                                       const std::string& room_id,
                                                       const std::vector<std::string>& from,
                                                       int limit) {
  if (from.empty()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kMissingParam, "v is required");
  }
  if (limit <= 0) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kMissingParam,
                       "limit is required");
  }
  bool in_room = true;
  absl::StatusOr<int> version = RoomAccess(origin, room_id, &in_room);
  if (!version.ok()) return version.status();
  std::vector<std::string> start(
      from.begin(), from.begin() + static_cast<long>(std::min<size_t>(from.size(), 100)));
  absl::StatusOr<std::vector<matrix::Json>> events =
      WalkBack(origin, room_id, *version, start, {}, true,
               static_cast<size_t>(std::min(limit, 100)), in_room);
  if (!events.ok()) return events.status();
  return matrix::Json{{"origin", our_server_name_},
                      {"origin_server_ts", absl::ToUnixMillis(clock_.Now())},
                      {"pdus", *std::move(events)}};
}

absl::StatusOr<std::vector<StoredPdu>> FederationReads::AuthChain(
    const std::vector<StoredPdu>& events, int room_version) {
  std::set<std::string> seen;
  for (const StoredPdu& e : events) seen.insert(e.event_id);
  std::vector<StoredPdu> chain;
  std::set<std::string> in_chain;
  std::vector<const StoredPdu*> frontier;
  for (const StoredPdu& e : events) frontier.push_back(&e);
  while (!frontier.empty() && chain.size() < kMaxAuthChain) {
    std::vector<std::string> wanted;
    for (const StoredPdu* e : frontier) {
      matrix::Json event = matrix::Json::parse(e->json, nullptr, false);
      if (!event.is_object()) continue;
      for (const std::string& id : matrix::AuthEventIdsOf(event, room_version)) {
        if (in_chain.insert(id).second) wanted.push_back(id);
      }
    }
    if (wanted.empty()) break;
    absl::StatusOr<std::vector<StoredPdu>> found = reads_.EventsById(wanted);
    if (!found.ok()) return found.status();
    size_t start = chain.size();
    for (StoredPdu& pdu : *found) chain.push_back(std::move(pdu));
    frontier.clear();
    for (size_t i = start; i < chain.size(); ++i) frontier.push_back(&chain[i]);
  }
  // The events asked about are not part of their own chain.
  chain.erase(std::remove_if(chain.begin(), chain.end(),
                             [&](const StoredPdu& p) { return seen.contains(p.event_id); }),
              chain.end());
  return chain;
}

absl::StatusOr<matrix::Json> FederationReads::Event(const std::string& origin,
                                                    const std::string& event_id) {
  absl::StatusOr<Readable> readable = ReadableEvent(origin, "", event_id);
  if (!readable.ok()) return readable.status();
  return matrix::Json{{"origin", our_server_name_},
                      {"origin_server_ts", absl::ToUnixMillis(clock_.Now())},
                      {"pdus", {PduForFederation(readable->event)}}};
}

absl::StatusOr<std::pair<std::vector<StoredPdu>, std::vector<StoredPdu>>>
FederationReads::StateAndChain(const std::string& origin, const std::string& room_id,
                               const std::string& event_id) {
  if (event_id.empty()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kMissingParam,
                       "event_id is required");
  }
  absl::StatusOr<Readable> readable = ReadableEvent(origin, room_id, event_id);
  if (!readable.ok()) return readable.status();
  absl::StatusOr<std::vector<StoredPdu>> state = reads_.StateAtEvent(room_id, event_id, false);
  if (absl::IsNotFound(state.status())) return NotFound("No state is known at this event");
  if (!state.ok()) return state.status();
  absl::StatusOr<std::vector<StoredPdu>> chain = AuthChain(*state, readable->room_version);
  if (!chain.ok()) return chain.status();
  return std::make_pair(*std::move(state), *std::move(chain));
}

absl::StatusOr<matrix::Json> FederationReads::StateIds(const std::string& origin,
                                                       const std::string& room_id,
                                                       const std::string& event_id) {
  auto both = StateAndChain(origin, room_id, event_id);
  if (!both.ok()) return both.status();
  matrix::Json pdu_ids = matrix::Json::array();
  matrix::Json chain_ids = matrix::Json::array();
  for (const StoredPdu& p : both->first) pdu_ids.push_back(p.event_id);
  for (const StoredPdu& p : both->second) chain_ids.push_back(p.event_id);
  return matrix::Json{{"pdu_ids", std::move(pdu_ids)}, {"auth_chain_ids", std::move(chain_ids)}};
}

absl::StatusOr<matrix::Json> FederationReads::State(const std::string& origin,
                                                    const std::string& room_id,
                                                    const std::string& event_id) {
  auto both = StateAndChain(origin, room_id, event_id);
  if (!both.ok()) return both.status();
  matrix::Json pdus = matrix::Json::array();
  matrix::Json chain = matrix::Json::array();
  for (const StoredPdu& p : both->first) pdus.push_back(PduForFederation(p));
  for (const StoredPdu& p : both->second) chain.push_back(PduForFederation(p));
  return matrix::Json{{"pdus", std::move(pdus)}, {"auth_chain", std::move(chain)}};
}

absl::StatusOr<matrix::Json> FederationReads::StateAtJoin(const std::string& room_id,
                                                          const std::string& event_id,
                                                          int room_version) {
  absl::StatusOr<std::vector<StoredPdu>> state = reads_.StateAtEvent(room_id, event_id, false);
  if (!state.ok()) return state.status();
  absl::StatusOr<std::vector<StoredPdu>> chain = AuthChain(*state, room_version);
  if (!chain.ok()) return chain.status();
  matrix::Json pdus = matrix::Json::array();
  matrix::Json auth_chain = matrix::Json::array();
  for (const StoredPdu& p : *state) pdus.push_back(PduForFederation(p));
  for (const StoredPdu& p : *chain) auth_chain.push_back(PduForFederation(p));
  return matrix::Json{{"state", std::move(pdus)}, {"auth_chain", std::move(auth_chain)}};
}

absl::StatusOr<matrix::Json> FederationReads::EventAuth(const std::string& origin,
                                                        const std::string& room_id,
                                                        const std::string& event_id) {
  absl::StatusOr<Readable> readable = ReadableEvent(origin, room_id, event_id);
  if (!readable.ok()) return readable.status();
  absl::StatusOr<std::vector<StoredPdu>> chain =
      AuthChain({readable->event}, readable->room_version);
  if (!chain.ok()) return chain.status();
  matrix::Json out = matrix::Json::array();
  for (const StoredPdu& p : *chain) out.push_back(PduForFederation(p));
  return matrix::Json{{"auth_chain", std::move(out)}};
}

}  // namespace periscope::federationapi
