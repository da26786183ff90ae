#include "internal/roomserver/service/roomserver_service.h"

#include "absl/strings/str_cat.h"
#include "pkg/grpc/service_reply.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {
namespace {

constexpr absl::string_view kComponent = "roomserver";

grpc::Status Finish(const absl::Status& status, grpc::ServerContext* ctx,
                    absl::string_view method) {
  return grpcutil::FinishCall(status, ctx, kComponent, method);
}

v1::Membership MembershipEnum(absl::string_view membership) {
  if (membership == "join") return v1::MEMBERSHIP_JOIN;
  if (membership == "invite") return v1::MEMBERSHIP_INVITE;
  if (membership == "leave") return v1::MEMBERSHIP_LEAVE;
  if (membership == "ban") return v1::MEMBERSHIP_BAN;
  if (membership == "knock") return v1::MEMBERSHIP_KNOCK;
  return v1::MEMBERSHIP_UNSPECIFIED;
}

absl::Status UnknownRoom(absl::string_view room_id) {
  return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                     absl::StrCat("Unknown room ", room_id));
}

}  // namespace

grpc::Status RoomserverServiceImpl::PerformCreateRoom(grpc::ServerContext* ctx,
                                                      const v1::PerformCreateRoomRequest* request,
                                                      v1::PerformCreateRoomResponse* response) {
  return grpcutil::ReplyWith(creator_.Create(*request), response, ctx, kComponent,
                             "PerformCreateRoom");
}

grpc::Status RoomserverServiceImpl::PerformSendEvent(grpc::ServerContext* ctx,
                                                     const v1::PerformSendEventRequest* request,
                                                     v1::PerformSendEventResponse* response) {
  return grpcutil::ReplyWith(sender_.Send(*request), response, ctx, kComponent, "PerformSendEvent");
}

grpc::Status RoomserverServiceImpl::PerformMembership(grpc::ServerContext* ctx,
                                                      const v1::PerformMembershipRequest* request,
                                                      v1::PerformMembershipResponse* response) {
  return grpcutil::ReplyWith(memberships_.Change(*request), response, ctx, kComponent,
                             "PerformMembership");
}

grpc::Status RoomserverServiceImpl::PerformPeek(grpc::ServerContext* ctx,
                                                const v1::PerformPeekRequest* request,
                                                v1::PerformPeekResponse* response) {
  return grpcutil::ReplyWith(peeks_.Peek(*request), response, ctx, kComponent, "PerformPeek");
}

grpc::Status RoomserverServiceImpl::PerformInboundPeek(grpc::ServerContext* ctx,
                                                       const v1::PerformInboundPeekRequest* request,
                                                       v1::PerformInboundPeekResponse* response) {
  return grpcutil::ReplyWith(inbound_peeks_.Peek(*request), response, ctx, kComponent,
                             "PerformInboundPeek");
}

grpc::Status RoomserverServiceImpl::PerformRetireInboundPeek(
    grpc::ServerContext* ctx, const v1::PerformRetireInboundPeekRequest* request,
    v1::PerformRetireInboundPeekResponse*) {
  return Finish(inbound_peeks_.Retire(*request), ctx, "PerformRetireInboundPeek");
}

grpc::Status RoomserverServiceImpl::PerformUnpeek(grpc::ServerContext* ctx,
                                                  const v1::PerformUnpeekRequest* request,
                                                  v1::PerformUnpeekResponse*) {
  return Finish(peeks_.Unpeek(*request), ctx, "PerformUnpeek");
}

grpc::Status RoomserverServiceImpl::QueryLocalPeekers(grpc::ServerContext* ctx,
                                                      const v1::QueryLocalPeekersRequest* request,
                                                      v1::QueryLocalPeekersResponse* response) {
  return grpcutil::ReplyWith(peeks_.Peekers(*request), response, ctx, kComponent,
                             "QueryLocalPeekers");
}

grpc::Status RoomserverServiceImpl::PerformSetAlias(grpc::ServerContext* ctx,
                                                    const v1::PerformSetAliasRequest* request,
                                                    v1::PerformSetAliasResponse*) {
  return Finish(directory_.SetAlias(*request), ctx, "PerformSetAlias");
}

grpc::Status RoomserverServiceImpl::PerformRemoveAlias(grpc::ServerContext* ctx,
                                                       const v1::PerformRemoveAliasRequest* request,
                                                       v1::PerformRemoveAliasResponse*) {
  return Finish(directory_.RemoveAlias(*request), ctx, "PerformRemoveAlias");
}

grpc::Status RoomserverServiceImpl::QueryAlias(grpc::ServerContext* ctx,
                                               const v1::QueryAliasRequest* request,
                                               v1::QueryAliasResponse* response) {
  return grpcutil::ReplyWith(directory_.QueryAlias(*request), response, ctx, kComponent,
                             "QueryAlias");
}

grpc::Status RoomserverServiceImpl::PerformSetVisibility(
    grpc::ServerContext* ctx, const v1::PerformSetVisibilityRequest* request,
    v1::PerformSetVisibilityResponse*) {
  return Finish(directory_.SetVisibility(*request), ctx, "PerformSetVisibility");
}

grpc::Status RoomserverServiceImpl::QueryVisibility(grpc::ServerContext* ctx,
                                                    const v1::QueryVisibilityRequest* request,
                                                    v1::QueryVisibilityResponse* response) {
  return grpcutil::ReplyWith(directory_.QueryVisibility(*request), response, ctx, kComponent,
                             "QueryVisibility");
}

grpc::Status RoomserverServiceImpl::QueryPublicRooms(grpc::ServerContext* ctx,
                                                     const v1::QueryPublicRoomsRequest* request,
                                                     v1::QueryPublicRoomsResponse* response) {
  return grpcutil::ReplyWith(directory_.PublicRooms(*request), response, ctx, kComponent,
                             "QueryPublicRooms");
}

grpc::Status RoomserverServiceImpl::QueryRoomVersion(grpc::ServerContext* ctx,
                                                     const v1::QueryRoomVersionRequest* request,
                                                     v1::QueryRoomVersionResponse* response) {
  absl::StatusOr<std::optional<int>> version = store_.RoomVersion(request->room_id());
  if (!version.ok()) return Finish(version.status(), ctx, "QueryRoomVersion");
  if (!*version) return Finish(UnknownRoom(request->room_id()), ctx, "QueryRoomVersion");
  response->set_room_version(absl::StrCat(**version));
  return grpc::Status::OK;
}

grpc::Status RoomserverServiceImpl::QueryRoomSequence(grpc::ServerContext* ctx,
                                                      const v1::QueryRoomSequenceRequest* request,
                                                      v1::QueryRoomSequenceResponse* response) {
  absl::StatusOr<int64_t> sequence = store_.OutputSequence(request->room_id());
  if (!sequence.ok()) return Finish(sequence.status(), ctx, "QueryRoomSequence");
  response->set_room_sequence(*sequence);
  return grpc::Status::OK;
}

grpc::Status RoomserverServiceImpl::QueryCurrentState(grpc::ServerContext* ctx,
                                                      const v1::QueryCurrentStateRequest* request,
                                                      v1::QueryCurrentStateResponse* response) {
  absl::StatusOr<std::optional<int>> version = store_.RoomVersion(request->room_id());
  if (!version.ok()) return Finish(version.status(), ctx, "QueryCurrentState");
  if (!*version) return Finish(UnknownRoom(request->room_id()), ctx, "QueryCurrentState");
  std::vector<matrix::StateKey> keys;
  for (const v1::StateKeyTuple& tuple : request->state_tuples()) {
    keys.emplace_back(tuple.type(), tuple.state_key());
  }
  absl::StatusOr<std::vector<EventRecord>> state = store_.CurrentState(request->room_id(), keys);
  if (!state.ok()) return Finish(state.status(), ctx, "QueryCurrentState");
  for (EventRecord& record : *state) {
    response->add_state_json(std::move(record.event_json));
    response->add_state_event_ids(std::move(record.event_id));
  }
  return grpc::Status::OK;
}

grpc::Status RoomserverServiceImpl::QueryMembership(grpc::ServerContext* ctx,
                                                    const v1::QueryMembershipRequest* request,
                                                    v1::QueryMembershipResponse* response) {
  absl::StatusOr<MembershipRecord> record =
      store_.Membership(request->room_id(), request->user_id());
  if (!record.ok()) return Finish(record.status(), ctx, "QueryMembership");
  response->set_room_exists(record->room_exists);
  response->set_membership(MembershipEnum(record->membership));
  response->set_event_id(record->event_id);
  return grpc::Status::OK;
}

grpc::Status RoomserverServiceImpl::QueryJoinedRooms(grpc::ServerContext* ctx,
                                                     const v1::QueryJoinedRoomsRequest* request,
                                                     v1::QueryJoinedRoomsResponse* response) {
  absl::StatusOr<std::vector<std::string>> rooms = store_.JoinedRooms(request->user_id());
  if (!rooms.ok()) return Finish(rooms.status(), ctx, "QueryJoinedRooms");
  for (std::string& room : *rooms) response->add_room_ids(std::move(room));
  return grpc::Status::OK;
}

grpc::Status RoomserverServiceImpl::QueryEventsById(grpc::ServerContext* ctx,
                                                    const v1::QueryEventsByIdRequest* request,
                                                    v1::QueryEventsByIdResponse* response) {
  std::vector<std::string> ids(request->event_ids().begin(), request->event_ids().end());
  for (const std::string& id : ids) {
    if (absl::Status s = matrix::ValidateEventId(id); !s.ok()) {
      return Finish(s, ctx, "QueryEventsById");
    }
  }
  absl::StatusOr<std::vector<EventRecord>> events = store_.EventsById(ids);
  if (!events.ok()) return Finish(events.status(), ctx, "QueryEventsById");
  for (EventRecord& record : *events) {
    response->add_events_json(std::move(record.event_json));
    response->add_event_ids(std::move(record.event_id));
    response->add_room_ids(std::move(record.room_id));
  }
  return grpc::Status::OK;
}

grpc::Status RoomserverServiceImpl::InputRoomEvents(grpc::ServerContext* ctx,
                                                    const v1::InputRoomEventsRequest* request,
                                                    v1::InputRoomEventsResponse* response) {
  return grpcutil::ReplyWith(input_.Input(*request), response, ctx, kComponent, "InputRoomEvents");
}

grpc::Status RoomserverServiceImpl::InputOutOfBandMembership(
    grpc::ServerContext* ctx, const v1::InputOutOfBandMembershipRequest* request,
    v1::InputOutOfBandMembershipResponse* response) {
  return grpcutil::ReplyWith(out_of_band_.Input(*request), response, ctx, kComponent,
                             "InputOutOfBandMembership");
}

grpc::Status RoomserverServiceImpl::QueryMembershipTemplate(
    grpc::ServerContext* ctx, const v1::QueryMembershipTemplateRequest* request,
    v1::QueryMembershipTemplateResponse* response) {
  return grpcutil::ReplyWith(templates_.Build(*request), response, ctx, kComponent,
                             "QueryMembershipTemplate");
}

grpc::Status RoomserverServiceImpl::QueryStateAtEvent(grpc::ServerContext* ctx,
                                                      const v1::QueryStateAtEventRequest* request,
                                                      v1::QueryStateAtEventResponse* response) {
  const bool by_group = request->state_group() != 0;
  for (const absl::Status& s :
       {matrix::ValidateRoomId(request->room_id()),
        by_group ? absl::OkStatus() : matrix::ValidateEventId(request->event_id())}) {
    if (!s.ok()) return Finish(s, ctx, "QueryStateAtEvent");
  }
  absl::StatusOr<matrix::StateMap> state =
      by_group ? store_.StateOfGroup(request->room_id(), request->state_group())
               : store_.StateAtEvent(request->room_id(), request->event_id(), request->after());
  if (!state.ok()) return Finish(state.status(), ctx, "QueryStateAtEvent");
  std::vector<std::string> ids;
  for (const auto& [key, id] : *state) ids.push_back(id);
  if (request->include_events()) {
    absl::StatusOr<std::vector<EventRecord>> events = store_.EventsById(ids);
    if (!events.ok()) return Finish(events.status(), ctx, "QueryStateAtEvent");
    for (EventRecord& record : *events) {
      response->add_state_event_ids(std::move(record.event_id));
      response->add_state_events_json(std::move(record.event_json));
    }
    return grpc::Status::OK;
  }
  for (std::string& id : ids) response->add_state_event_ids(std::move(id));
  return grpc::Status::OK;
}

}  // namespace periscope::roomserver
