#include "internal/federationapi/inbound/state_input.h"

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "internal/federationapi/inbound/pdu_checks.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

absl::Status BadAnswer(const std::string& server, absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnavailable, matrix::errcode::kUnknown,
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

absl::StatusOr<std::set<std::string>> InputSentState(const matrix::Json& state,
                                                     const matrix::Json& chain,
                                                     const std::string& room_id, int room_version,
                                                     const std::string& server, bool create_room,
                                                     Keyring& keyring, RoomInput& rooms) {
  if (!state.is_array() || !chain.is_array()) {
    return BadAnswer(server, "the state or the auth chain is not a list");
  }
  std::map<std::string, matrix::Json> checked;
  std::set<std::string> state_ids;
  bool has_create = false;
  for (const matrix::Json* list : {&chain, &state}) {
    for (const matrix::Json& pdu : *list) {
      absl::StatusOr<CheckedPdu> ok = CheckPdu(pdu, room_version, keyring);
      if (!ok.ok() || ok->room_id != room_id) {
        // Room-level state (an ACL, the power levels, the join rules, history visibility...)
        // that cannot be verified, now or at all, would leave a wrong state: nothing is input.
        // A member event that cannot be (a long-gone server's) is left out.
        if (matrix::StringField(pdu, "state_key").empty() && list == &state) {
          return MatrixError(absl::StatusCode::kUnavailable, matrix::errcode::kUnknown,
                             absl::StrCat("The room's ", matrix::StringField(pdu, "type"), " from ",
                                          server, " cannot be verified: ",
                                          ok.ok() ? "another room" : ok.status().message()));
        }
        logging::Warn("federationapi.state_event_dropped",
                      {{"room_id", room_id},
                       {"server", server},
                       {"error", ok.ok() ? "another room" : ok.status().ToString()}});
        continue;
      }
      if (list == &state) {
        state_ids.insert(ok->event_id);
        if (matrix::StringField(ok->event, "type") == "m.room.create") {
          // The version the room is read with must be the room's own, or its events would be
          // checked (and the room kept for good) under another version's rules.
          std::string named = matrix::StringField(matrix::ContentOf(ok->event), "room_version");
          if ((named.empty() ? "1" : named) != absl::StrCat(room_version)) {
            return BadAnswer(server, absl::StrCat("the room is version ", room_version,
                                                  " but its create event says \"", named, "\""));
          }
          has_create = true;
        }
      }
      checked.emplace(ok->event_id, std::move(ok->event));
    }
  }
  if (!has_create) return BadAnswer(server, "the room's state has no m.room.create");

  std::vector<matrix::Json> events;
  for (auto& [id, event] : checked) events.push_back(std::move(event));
  events = AuthOrder(std::move(events), room_version);
  for (size_t start = 0; start < events.size(); start += kStateInputBatch) {
    roomserver::v1::InputRoomEventsRequest batch;
    if (create_room) batch.set_create_room_version(absl::StrCat(room_version));
    for (size_t i = start; i < std::min(events.size(), start + kStateInputBatch); ++i) {
      roomserver::v1::InputRoomEvent* in = batch.add_events();
      in->set_kind(roomserver::v1::INPUT_KIND_OUTLIER);
      PERISCOPE_ASSIGN_OR_RETURN(*in->mutable_event_json(), matrix::EncodeCanonicalJson(events[i]));
      in->set_origin(server);
    }
    PERISCOPE_ASSIGN_OR_RETURN(roomserver::v1::InputRoomEventsResponse result, rooms.Input(batch));
    for (const auto& [id, why] : result.rejected()) {
      logging::Warn("federationapi.state_event_rejected",
                    {{"room_id", room_id}, {"event_id", id}, {"reason", why}});
    }
    for (const auto& [id, why] : result.not_processed()) {
      logging::Warn("federationapi.state_event_not_processed",
                    {{"room_id", room_id}, {"event_id", id}, {"reason", why}});
    }
  }
  return state_ids;
}

}  // namespace periscope::federationapi
