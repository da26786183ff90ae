#include "internal/roomserver/perform/event_input.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "internal/roomserver/output/output_queue.h"
#include "internal/roomserver/perform/local_peeks.h"
#include "internal/roomserver/state/room_dag.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

// What became of one input event.
struct Outcome {
  enum Kind { kAccepted, kRejected, kSoftFailed, kNotProcessed } kind = kAccepted;
  std::string reason;
  // Nothing the input wrote is to be kept (a de-outliered event that failed: the state groups
  // computed for it name no event).
  bool discard = false;
};

Outcome Rejected(absl::string_view why) { return {Outcome::kRejected, std::string(why)}; }
Outcome NotProcessed(absl::string_view why) { return {Outcome::kNotProcessed, std::string(why)}; }

// Synapse's limit on auth_events (prev_events share the builder's kMaxPrevEvents).
constexpr size_t kMaxAuthEvents = 10;

// Whether `ids` are exactly the extremities (as a set).
bool NamesExactly(std::vector<std::string> ids, const std::vector<matrix::PrevEvent>& extremities) {
  std::vector<std::string> extremity_ids;
  for (const matrix::PrevEvent& e : extremities) extremity_ids.push_back(e.event_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::sort(extremity_ids.begin(), extremity_ids.end());
  return ids == extremity_ids;
}

// The auth state `keys` of `group`: the current-state rows when the group is the current state
// (the common case, and no state map to load), else the group's state.
absl::StatusOr<matrix::AuthEvents> AuthStateAt(RoomWriteTxn& txn, RoomDag& dag, int64_t group,
                                               int64_t current,
                                               const std::vector<matrix::StateKey>& keys) {
  if (group == current) return txn.State(keys);
  return dag.StateEvents(group, keys);
}

// The output-stream message of an accepted event.
absl::Status QueueNewEvent(RoomWriteTxn& txn, const std::string& room_id,
                           const v1::InputRoomEvent& input, const AcceptedEvent& accepted,
                           const CurrentStateChange& change, const std::string& redacted_id,
                           bool ours) {
  v1::OutputEvent output;
  output.set_room_id(room_id);
  v1::NewRoomEvent* event = output.mutable_new_room_event();
  event->set_event_json(accepted.event_json);
  event->set_event_id(accepted.event_id);
  event->set_room_version(absl::StrCat(txn.room_version()));
  // An event of ours that another server had to sign first (an invite) is sent out like any of
  // our events; a join over federation reaches the room through its resident instead.
  event->set_from_federation(!ours || input.has_state());
  for (const std::string& extremity : change.extremities) event->add_latest_event_ids(extremity);
  SetStateChange(*event, change, input.has_state());
  if (!redacted_id.empty()) event->set_redacted_event_id(redacted_id);
  event->set_send_on_behalf_of(input.send_on_behalf_of());
  return QueueOutput(txn, output);
}

// The state an input gives (has_state), as a map; nullopt if one of its events is not stored.
// Events of other rooms, rejected ones and non-state events are left out: they cannot be state.
absl::StatusOr<std::optional<matrix::StateMap>> GivenState(RoomWriteTxn& txn,
                                                           const std::string& room_id,
                                                           const v1::InputRoomEvent& input) {
  matrix::StateMap state;
  for (const std::string& id : input.state_event_ids()) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventRecord> record, txn.Event(id));
    if (!record) return std::nullopt;
    if (record->room_id != room_id || record->rejected) continue;
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json event, matrix::ParseJson(record->event_json));
    const matrix::Json& key = matrix::JsonField(event, "state_key");
    if (!key.is_string()) continue;
    state.emplace(matrix::StateKey(matrix::StringField(event, "type"), key.get<std::string>()), id);
  }
  return state;
}

absl::StatusOr<Outcome> PlaceOne(RoomWriteTxn& txn, const std::string& room_id, bool ours,
                                 const v1::InputRoomEvent& input, const matrix::Json& pdu,
                                 const std::string& event_id, const std::string& canonical,
                                 bool deoutlier);

// One event, inside its room's write transaction. `pdu` is the parsed event, `event_id` its id.
absl::StatusOr<Outcome> InputOne(RoomWriteTxn& txn, const std::string& room_id, bool ours,
                                 const v1::InputRoomEvent& input, const matrix::Json& pdu,
                                 const std::string& event_id, const std::string& canonical) {
  if (input.kind() == v1::INPUT_KIND_UNSPECIFIED) {
    return NotProcessed("the input kind is unspecified (new, old or outlier)");
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventPlace> stored, txn.Place(event_id));
  if (!stored) return PlaceOne(txn, room_id, ours, input, pdu, event_id, canonical, false);
  // Inputs are idempotent, and say what became of the event the first time.
  if (stored->rejected) return Rejected("the event was rejected when it was first received");
  if (stored->soft_failed) return Outcome{Outcome::kSoftFailed, "soft-failed when first received"};
  // An outlier (from a /state answer, an auth chain, an invite) that now comes as a timeline event
  // is placed like a new one ("de-outliered", as Synapse and Dendrite do); its prev events must be
  // placed. The create event (no prev events) has no place to take: it stays as it is.
  const matrix::Json& prevs = matrix::JsonField(pdu, "prev_events");
  if (!stored->outlier || input.kind() == v1::INPUT_KIND_OUTLIER || !prevs.is_array() ||
      prevs.empty()) {
    return Outcome{};
  }
  // As it was stored (redacted, if its content hash did not match then): what clients see of it.
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventRecord> record, txn.Event(event_id));
  if (!record) return absl::InternalError(absl::StrCat("event ", event_id, " vanished"));
  PERISCOPE_ASSIGN_OR_RETURN(matrix::Json stored_pdu, matrix::ParseJson(record->event_json));
  return PlaceOne(txn, room_id, ours, input, stored_pdu, event_id, record->event_json, true);
}

// A new event (or, `deoutlier`, an outlier received again as a timeline event): checked and placed
// in the DAG. A de-outliered event that fails a check keeps its accepted outlier row untouched
// (it may be in the room's state, from a join): only one that passes takes a place.
absl::StatusOr<Outcome> PlaceOne(RoomWriteTxn& txn, const std::string& room_id, bool ours,
                                 const v1::InputRoomEvent& input, const matrix::Json& pdu,
                                 const std::string& event_id, const std::string& canonical,
                                 bool deoutlier) {
  const int version = txn.room_version();
  // Sanity limits before any work, as Synapse's: a PDU naming more events is refused.
  const matrix::Json& prev_list = matrix::JsonField(pdu, "prev_events");
  const matrix::Json& auth_list = matrix::JsonField(pdu, "auth_events");
  Outcome outcome;
  const bool too_many = (prev_list.is_array() && prev_list.size() > matrix::kMaxPrevEvents) ||
                        (auth_list.is_array() && auth_list.size() > kMaxAuthEvents);
  if (too_many) {
    outcome = Rejected(absl::StrCat("more than ", matrix::kMaxPrevEvents, " prev_events or ",
                                    kMaxAuthEvents, " auth_events"));
  }

  // Check 4: the event's own auth events. A rejection here is recorded and the event still stored
  // (below): others may name it, and must be placed all the same.
  matrix::AuthEvents claimed;
  std::vector<matrix::Json> claimed_events;
  const bool is_create = matrix::StringField(pdu, "type") == "m.room.create";
  for (const std::string& auth_id : matrix::AuthEventIdsOf(pdu, version)) {
    if (outcome.kind != Outcome::kAccepted) break;
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventRecord> auth, txn.Event(auth_id));
    if (!auth) return NotProcessed(absl::StrCat("auth event ", auth_id, " is unknown"));
    if (auth->room_id != room_id) {
      outcome = Rejected(absl::StrCat("auth event ", auth_id, " belongs to another room"));
    } else if (auth->rejected) {
      outcome = Rejected(absl::StrCat("auth event ", auth_id, " was rejected"));
    }
    PERISCOPE_ASSIGN_OR_RETURN(matrix::Json auth_json, matrix::ParseJson(auth->event_json));
    // The v12 create event is implied, not listed: it is consulted but not "selected".
    if (auth_id != matrix::CreateEventIdOfRoom(room_id) || version < 12) {
      claimed_events.push_back(auth_json);
    }
    if (absl::Status s = claimed.Add(auth_id, std::move(auth_json));
        !s.ok() && outcome.kind == Outcome::kAccepted) {
      outcome = Rejected(s.message());
    }
  }
  if (outcome.kind == Outcome::kAccepted) {
    // The create event has no auth events to select.
    if (absl::Status s = matrix::CheckAuthEventsSelection(pdu, claimed_events, version);
        !s.ok() && !is_create) {
      outcome = Rejected(s.message());
    } else if (absl::Status s = matrix::CheckAuthRules(pdu, claimed, version); !s.ok()) {
      outcome = Rejected(s.message());
    }
  }

  AcceptedEvent accepted = AcceptedEventOf(pdu, event_id, canonical);
  accepted.place.rejected = outcome.kind == Outcome::kRejected;

  RoomDag dag(txn, room_id);
  if (input.kind() == v1::INPUT_KIND_OUTLIER || too_many) {
    if (deoutlier) return outcome;  // stays the outlier it is
    // A PDU past the sanity limits is kept only as a rejected outlier: placing it would mean
    // resolving the states of all it names.
    accepted.place.outlier = true;
    PERISCOPE_RETURN_IF_ERROR(dag.Append(accepted).status());
    return outcome;
  }

  PERISCOPE_ASSIGN_OR_RETURN(int64_t current, dag.CurrentStateGroup());
  if (input.has_state()) {
    // A join over federation: the resident server told us the state before it, and its prev
    // events are the resident's, which we do not have. The state's events were input first.
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<matrix::StateMap> given,
                               GivenState(txn, room_id, input));
    if (!given) return NotProcessed("an event of its given state is unknown");
    PERISCOPE_ASSIGN_OR_RETURN(accepted.place.state_before, dag.StoreState(*given));
    // A peek's snapshot is taken as the room's state, as our own join's is (see the proto).
    const bool given_is_newer = ours || input.peek_snapshot();
    if (!given_is_newer) {
      // Another server's event across a gap: what it says of the state is resolved with what we
      // know of the prev events we have, never taken instead of it (it may leave out a ban).
      PERISCOPE_ASSIGN_OR_RETURN(
          accepted.place.state_before,
          dag.StateBeforeAcrossGap(accepted.prev_event_ids, accepted.place.state_before));
    }
    const std::vector<matrix::StateKey> keys = matrix::AuthStateKeysFor(pdu, version);
    // A peek's snapshot gives the state *after* its latest event, of which the state before is
    // only an approximation (the event's own key's earlier value is not given): the event is
    // checked against its auth events (above), not against it.
    if (outcome.kind == Outcome::kAccepted && !input.peek_snapshot()) {
      PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents before,
                                 dag.StateEvents(accepted.place.state_before, keys));
      if (absl::Status s = matrix::CheckAuthRules(pdu, before, version); !s.ok()) {
        outcome = Rejected(absl::StrCat("against its given state: ", s.message()));
      }
    }
    // Our own join over federation is not checked against the current state: the given state is
    // newer than whatever this server last knew of the room (nothing, or the state when it
    // left). Another server's event placed across a gap (its prev events could not be fetched,
    // its state came from /state) is, like any new event (check 6).
    if (outcome.kind == Outcome::kAccepted && !given_is_newer) {
      PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents now,
                                 AuthStateAt(txn, dag, current, current, keys));
      if (absl::Status s = matrix::CheckAuthRules(pdu, now, version); !s.ok()) {
        outcome = {Outcome::kSoftFailed, std::string(s.message())};
      }
    }
    if (deoutlier && outcome.kind != Outcome::kAccepted) {
      outcome.discard = true;
      return outcome;
    }
    accepted.place.rejected = outcome.kind == Outcome::kRejected;
    accepted.place.soft_failed = outcome.kind == Outcome::kSoftFailed;
    PERISCOPE_ASSIGN_OR_RETURN(CurrentStateChange change, dag.Append(accepted));
    if (outcome.kind != Outcome::kAccepted) return outcome;
    PERISCOPE_RETURN_IF_ERROR(QueueNewEvent(txn, room_id, input, accepted, change, "", ours));
    PERISCOPE_RETURN_IF_ERROR(
        RetirePeeksAfterEvent(txn, room_id, accepted, matrix::ContentOf(pdu)));
    return outcome;
  }

  // Check 5: the state before the event. Its prev events must be placed already.
  for (const std::string& prev : accepted.prev_event_ids) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventPlace> place, txn.Place(prev));
    if (!place || place->outlier) {
      return NotProcessed(absl::StrCat("prev event ", prev, " is unknown"));
    }
  }
  if (accepted.prev_event_ids.empty()) {
    if (deoutlier) return Outcome{};  // the create event: InputOne keeps it as it is
    // No state can be computed for it: it is kept (rejected) as an outlier.
    accepted.place.outlier = true;
    accepted.place.rejected = true;
    PERISCOPE_RETURN_IF_ERROR(dag.Append(accepted).status());
    return Rejected("only m.room.create has no prev_events");
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<matrix::PrevEvent> extremities, txn.ForwardExtremities());
  if (NamesExactly(accepted.prev_event_ids, extremities)) {
    // Its prev events are the room's extremities: the state before it is the current state, which
    // the room already holds (no resolution to repeat, no group to store).
    accepted.place.state_before = current;
  } else {
    PERISCOPE_ASSIGN_OR_RETURN(accepted.place.state_before,
                               dag.StateBefore(accepted.prev_event_ids));
  }
  const std::vector<matrix::StateKey> keys = matrix::AuthStateKeysFor(pdu, version);
  if (outcome.kind == Outcome::kAccepted) {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents before,
                               AuthStateAt(txn, dag, accepted.place.state_before, current, keys));
    if (absl::Status s = matrix::CheckAuthRules(pdu, before, version); !s.ok()) {
      outcome = Rejected(absl::StrCat("against the state before it: ", s.message()));
    }
  }
  // Check 6: the current state. Also for old events (backfill, gap filling): one that does not
  // pass it must not become an extremity or enter the current state.
  if (outcome.kind == Outcome::kAccepted && accepted.place.state_before != current) {
    PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents now,
                               AuthStateAt(txn, dag, current, current, keys));
    if (absl::Status s = matrix::CheckAuthRules(pdu, now, version); !s.ok()) {
      outcome = {Outcome::kSoftFailed, std::string(s.message())};
    }
  }
  if (deoutlier && outcome.kind != Outcome::kAccepted) {
    outcome.discard = true;
    return outcome;
  }
  accepted.place.rejected = outcome.kind == Outcome::kRejected;
  accepted.place.soft_failed = outcome.kind == Outcome::kSoftFailed;
  PERISCOPE_ASSIGN_OR_RETURN(CurrentStateChange change, dag.Append(accepted));
  if (outcome.kind != Outcome::kAccepted) return outcome;

  // A redaction takes effect if the redactor may redact the target (room versions 3+).
  std::string redacted_id;
  if (accepted.type == "m.room.redaction") {
    std::string target_id = version >= 11 ? matrix::StringField(matrix::ContentOf(pdu), "redacts")
                                          : matrix::StringField(pdu, "redacts");
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventRecord> target, txn.Event(target_id));
    if (target && target->room_id == room_id) {
      PERISCOPE_ASSIGN_OR_RETURN(matrix::Json target_pdu, matrix::ParseJson(target->event_json));
      PERISCOPE_ASSIGN_OR_RETURN(matrix::AuthEvents levels,
                                 txn.State({{"m.room.create", ""}, {"m.room.power_levels", ""}}));
      if (matrix::RedactionTakesEffect(accepted.sender, matrix::StringField(target_pdu, "sender"),
                                       levels, version)) {
        PERISCOPE_ASSIGN_OR_RETURN(matrix::Json redacted, matrix::RedactEvent(target_pdu, version));
        PERISCOPE_ASSIGN_OR_RETURN(std::string json, matrix::EncodeCanonicalJson(redacted));
        PERISCOPE_RETURN_IF_ERROR(txn.StoreRedacted(target_id, json));
        redacted_id = target_id;
      }
    }
  }

  PERISCOPE_RETURN_IF_ERROR(
      QueueNewEvent(txn, room_id, input, accepted, change, redacted_id, ours));
  PERISCOPE_RETURN_IF_ERROR(RetirePeeksAfterEvent(txn, room_id, accepted, matrix::ContentOf(pdu)));
  return outcome;
}

bool HasNul(const matrix::Json& pdu) {
  for (const char* field : {"type", "state_key", "sender", "room_id"}) {
    if (matrix::StringField(pdu, field).find('\0') != std::string::npos) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::optional<int>>> EventInput::RoomOf(
    const matrix::Json& pdu, const v1::InputRoomEventsRequest& request) {
  std::optional<int> create_version;
  if (!request.create_room_version().empty()) {
    absl::StatusOr<int> parsed = matrix::ParseRoomVersion(request.create_room_version());
    if (!parsed.ok()) {
      return MatrixError(
          absl::StatusCode::kInvalidArgument, matrix::errcode::kUnsupportedRoomVersion,
          absl::StrCat("room version ", request.create_room_version(), " is not supported"));
    }
    create_version = *parsed;
  }
  std::string room_id = matrix::StringField(pdu, "room_id");
  if (room_id.empty() && matrix::StringField(pdu, "type") == "m.room.create") {
    // Room version 12: the create event names no room; its id is the room's. Its version comes
    // from the stored room, or from the join that creates it.
    std::optional<int> version = create_version;
    if (!version) {
      version =
          matrix::ParseRoomVersion(matrix::StringField(matrix::ContentOf(pdu), "room_version"))
              .value_or(0);
    }
    if (*version >= 12) {
      absl::StatusOr<std::string> id = matrix::ComputeEventId(pdu, *version);
      if (id.ok()) room_id = matrix::RoomIdOfCreateEvent(*id);
    }
  }
  if (room_id.empty()) return std::make_pair(room_id, std::optional<int>());
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(room_id));
  if (version && create_version && *version != *create_version) {
    // A room known only from an invite, whose sender named another version than the room has
    // (by mistake or to keep us out): the join's version, checked against the create event,
    // holds.
    PERISCOPE_ASSIGN_OR_RETURN(bool replaced,
                               store_.ReplaceVersionOfStatelessRoom(room_id, *create_version));
    if (replaced) version = create_version;
  }
  if (version && create_version && *version != *create_version) {
    // A join naming another version than the room has here: its events would be read under the
    // wrong rules.
    return MatrixError(
        absl::StatusCode::kInvalidArgument, matrix::errcode::kIncompatibleRoomVersion,
        absl::StrCat("Room ", room_id, " has version ", *version, " here, not ", *create_version));
  }
  if (!version && create_version && matrix::ValidateRoomId(room_id).ok()) {
    absl::Status created =
        store_.CreateRoom(room_id, *create_version, absl::ToUnixMillis(clock_.Now()),
                          [](RoomWriteTxn&) { return absl::OkStatus(); });
    // Two joins of the same new room race to create it; either one's room will do.
    if (!created.ok() && !absl::IsAlreadyExists(created)) return created;
    PERISCOPE_ASSIGN_OR_RETURN(version, store_.RoomVersion(room_id));
  }
  return std::make_pair(room_id, version);
}

AcceptedEvent AcceptedEventOf(const matrix::Json& pdu, const std::string& event_id,
                              const std::string& canonical) {
  AcceptedEvent accepted;
  accepted.event_id = event_id;
  accepted.event_json = canonical;
  accepted.type = matrix::StringField(pdu, "type");
  if (const matrix::Json& key = matrix::JsonField(pdu, "state_key"); key.is_string()) {
    accepted.state_key = key.get<std::string>();
  }
  accepted.sender = matrix::StringField(pdu, "sender");
  const matrix::Json& depth = matrix::JsonField(pdu, "depth");
  accepted.depth = depth.is_number_integer() ? depth.get<int64_t>() : 0;
  const matrix::Json& prevs = matrix::JsonField(pdu, "prev_events");
  if (prevs.is_array()) {
    for (const matrix::Json& prev : prevs) {
      if (prev.is_string()) accepted.prev_event_ids.push_back(prev.get<std::string>());
    }
  }
  accepted.membership = matrix::StringField(matrix::ContentOf(pdu), "membership");
  return accepted;
}

absl::StatusOr<v1::InputRoomEventsResponse> EventInput::Input(
    const v1::InputRoomEventsRequest& request) {
  v1::InputRoomEventsResponse response;
  for (int i = 0; i < request.events_size(); ++i) {
    const v1::InputRoomEvent& input = request.events(i);
    const std::string index_key = absl::StrCat("input[", i, "]");
    absl::StatusOr<matrix::Json> pdu =
        matrix::ParseJson(input.event_json(), {.max_bytes = matrix::kMaxEventBytes});
    if (!pdu.ok() || !pdu->is_object()) {
      (*response.mutable_rejected())[index_key] = "the event is not a JSON object";
      continue;
    }
    PERISCOPE_ASSIGN_OR_RETURN(auto room, RoomOf(*pdu, request));
    const std::string& room_id = room.first;
    const std::optional<int>& version = room.second;
    if (!version) {
      (*response.mutable_not_processed())[index_key] =
          absl::StrCat("the room \"", room_id, "\" is unknown to this server");
      continue;
    }
    absl::StatusOr<std::string> event_id = matrix::ComputeEventId(*pdu, *version);
    absl::StatusOr<std::string> canonical = matrix::EncodeCanonicalJson(*pdu);
    if (!event_id.ok() || !canonical.ok()) {
      (*response.mutable_rejected())[index_key] = "the event cannot be hashed";
      continue;
    }
    if (absl::Status size = matrix::CheckEventSize(*pdu); !size.ok()) {
      (*response.mutable_rejected())[*event_id] = std::string(size.message());
      continue;
    }
    if (HasNul(*pdu)) {
      // Stored as text columns, a NUL would cut the value short.
      (*response.mutable_rejected())[*event_id] = "type, state_key or sender holds a NUL";
      continue;
    }
    Outcome outcome;
    absl::Status written = store_.Write(room_id, [&](RoomWriteTxn& txn) -> absl::Status {
      PERISCOPE_ASSIGN_OR_RETURN(
          outcome, InputOne(txn, room_id, !server_name_.empty() && input.origin() == server_name_,
                            input, *pdu, *event_id, *canonical));
      // Nothing of an event that cannot be processed yet is kept, nor of a failed de-outlier.
      if (outcome.kind == Outcome::kNotProcessed || outcome.discard) {
        return absl::AbortedError("nothing to keep");
      }
      return absl::OkStatus();
    });
    if (!written.ok() && !((outcome.kind == Outcome::kNotProcessed || outcome.discard) &&
                           absl::IsAborted(written))) {
      return written;
    }
    switch (outcome.kind) {
      case Outcome::kAccepted:
        break;
      case Outcome::kRejected:
        (*response.mutable_rejected())[*event_id] = outcome.reason;
        break;
      case Outcome::kSoftFailed:
        response.add_soft_failed_event_ids(*event_id);
        break;
      case Outcome::kNotProcessed:
        (*response.mutable_not_processed())[*event_id] = outcome.reason;
        break;
    }
  }
  return response;
}

}  // namespace periscope::roomserver
