#include "internal/roomserver/perform/inbound_peeks.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "internal/roomserver/output/output_queue.h"
#include "internal/roomserver/perform/local_peeks.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

namespace errcode = matrix::errcode;

// What the room's write transaction captured: the snapshot's place in the room's events.
struct SnapshotPlace {
  std::vector<std::string> extremities;
  std::vector<int64_t> extremity_states;  // the state group after each
  std::string latest_event_id;
};

absl::Status ValidatePeek(const std::string& room_id, const std::string& server_name,
                          const std::string& peek_id) {
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(room_id));
  if (server_name.empty()) return absl::InvalidArgumentError("server_name is required");
  if (!matrix::ValidPeekId(peek_id, room_id)) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kUnrecognized,
                       "A peek id is 1 to 8 of the characters [0-9a-zA-Z.=_-]");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::PerformInboundPeekResponse> InboundPeeks::Peek(
    const v1::PerformInboundPeekRequest& request) {
  const std::string& room_id = request.room_id();
  PERISCOPE_RETURN_IF_ERROR(ValidatePeek(room_id, request.server_name(), request.peek_id()));
  if (request.renewal_interval_ms() <= 0) {
    return absl::InvalidArgumentError("renewal_interval_ms must be positive");
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(room_id));
  // A room none of our users is in is not ours to serve: what we hold of it (an earlier peek of
  // our own, users who left) may be stale, and nothing would be relayed.
  PERISCOPE_ASSIGN_OR_RETURN(bool in_room, version ? store_.HasJoinedMemberOf(room_id, server_name_)
                                                   : absl::StatusOr<bool>(false));
  if (!version || !in_room) {
    return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                       absl::StrCat("Unknown room ", room_id));
  }
  const std::string version_name = absl::StrCat(*version);
  std::vector<std::string> offered(request.supported_room_versions().begin(),
                                   request.supported_room_versions().end());
  if (offered.empty()) offered.push_back("1");
  if (std::find(offered.begin(), offered.end(), version_name) == offered.end()) {
    return WithMatrixErrorFields(
        MatrixError(absl::StatusCode::kInvalidArgument, errcode::kIncompatibleRoomVersion,
                    absl::StrCat("The room's version is ", version_name,
                                 ", which the peeking server does not support")),
        matrix::Json{{"room_version", version_name}}.dump());
  }

  SnapshotPlace place;
  PERISCOPE_RETURN_IF_ERROR(store_.Write(room_id, [&](RoomWriteTxn& txn) -> absl::Status {
    place = SnapshotPlace{};
    PERISCOPE_ASSIGN_OR_RETURN(
        matrix::AuthEvents state,
        txn.State({{"m.room.history_visibility", ""}, {"m.room.encryption", ""}}));
    PERISCOPE_RETURN_IF_ERROR(CheckPeekable(state));
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<matrix::PrevEvent> extremities,
                               txn.ForwardExtremities());
    if (extremities.empty()) {
      return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                         "The room has no events here to peek at");
    }
    int64_t latest_depth = -1;
    for (const matrix::PrevEvent& e : extremities) {
      PERISCOPE_ASSIGN_OR_RETURN(std::optional<EventPlace> at, txn.Place(e.event_id));
      place.extremities.push_back(e.event_id);
      place.extremity_states.push_back(at ? at->state_after : kEmptyStateGroup);
      if (e.depth > latest_depth) {
        latest_depth = e.depth;
        place.latest_event_id = e.event_id;
      }
    }
    v1::OutputEvent output;
    output.set_room_id(room_id);
    v1::NewInboundPeek* peek = output.mutable_new_inbound_peek();
    peek->set_server_name(request.server_name());
    peek->set_peek_id(request.peek_id());
    peek->set_latest_event_id(place.latest_event_id);
    peek->set_renewal_interval_ms(request.renewal_interval_ms());
    peek->set_peeked_ts(absl::ToUnixMillis(clock_.Now()));
    return QueueOutput(txn, output);
  }));

  // State groups never change once written: what follows reads exactly the snapshot's state,
  // whatever the room did since the commit.
  v1::PerformInboundPeekResponse response;
  response.set_room_version(version_name);
  response.set_renewal_interval_ms(request.renewal_interval_ms());
  std::vector<matrix::StateMap> after;
  for (int64_t group : place.extremity_states) {
    if (group == kEmptyStateGroup) {
      after.emplace_back();
      continue;
    }
    PERISCOPE_ASSIGN_OR_RETURN(matrix::StateMap s, store_.StateOfGroup(room_id, group));
    after.push_back(std::move(s));
  }
  // Common: the (key, event) pairs every extremity's state has.
  std::set<std::string> common;
  for (const auto& [key, id] : after.front()) {
    if (std::all_of(after.begin(), after.end(), [&](const matrix::StateMap& m) {
          auto it = m.find(key);
          return it != m.end() && it->second == id;
        })) {
      common.insert(id);
    }
  }
  for (const std::string& id : common) response.add_common_state_ids(id);
  for (size_t i = 0; i < place.extremities.size(); ++i) {
    v1::StateIds& rest = (*response.mutable_latest_event_state_ids())[place.extremities[i]];
    for (const auto& [key, id] : after[i]) {
      if (common.count(id) == 0) rest.add_event_ids(id);
    }
  }
  response.set_latest_event_id(place.latest_event_id);
  return response;
}

absl::Status InboundPeeks::Retire(const v1::PerformRetireInboundPeekRequest& request) {
  const std::string& room_id = request.room_id();
  PERISCOPE_RETURN_IF_ERROR(ValidatePeek(room_id, request.server_name(), request.peek_id()));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<int> version, store_.RoomVersion(room_id));
  if (!version) {
    return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                       absl::StrCat("Unknown room ", room_id));
  }
  return store_.Write(room_id, [&](RoomWriteTxn& txn) -> absl::Status {
    v1::OutputEvent output;
    output.set_room_id(room_id);
    v1::RetireInboundPeek* retire = output.mutable_retire_inbound_peek();
    retire->set_server_name(request.server_name());
    retire->set_peek_id(request.peek_id());
    return QueueOutput(txn, output);
  });
}

}  // namespace periscope::roomserver
