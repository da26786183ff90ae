#pragma once
// The RoomserverService gRPC service: unwraps requests and hands each to its verb. Methods not
// overridden here (federated peeks) still answer UNIMPLEMENTED.

#include "internal/roomserver/perform/event_input.h"
#include "internal/roomserver/perform/event_sender.h"
#include "internal/roomserver/perform/inbound_peeks.h"
#include "internal/roomserver/perform/local_peeks.h"
#include "internal/roomserver/perform/membership_changer.h"
#include "internal/roomserver/perform/membership_template.h"
#include "internal/roomserver/perform/out_of_band_membership.h"
#include "internal/roomserver/perform/room_creator.h"
#include "internal/roomserver/perform/room_directory.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"

namespace periscope::roomserver {

class RoomserverServiceImpl final : public v1::RoomserverService::Service {
 public:
  RoomserverServiceImpl(RoomStore& store, RoomCreator& creator, EventSender& sender,
                        MembershipChanger& memberships, RoomDirectory& directory, LocalPeeks& peeks,
                        InboundPeeks& inbound_peeks, EventInput& input,
                        MembershipTemplate& templates, OutOfBandMembership& out_of_band)
      : store_(store),
        creator_(creator),
        sender_(sender),
        memberships_(memberships),
        directory_(directory),
        peeks_(peeks),
        inbound_peeks_(inbound_peeks),
        input_(input),
        templates_(templates),
        out_of_band_(out_of_band) {}

  grpc::Status PerformCreateRoom(grpc::ServerContext* ctx,
                                 const v1::PerformCreateRoomRequest* request,
                                 v1::PerformCreateRoomResponse* response) override;
  grpc::Status PerformSendEvent(grpc::ServerContext* ctx,
                                const v1::PerformSendEventRequest* request,
                                v1::PerformSendEventResponse* response) override;
  grpc::Status PerformMembership(grpc::ServerContext* ctx,
                                 const v1::PerformMembershipRequest* request,
                                 v1::PerformMembershipResponse* response) override;
  grpc::Status PerformPeek(grpc::ServerContext* ctx, const v1::PerformPeekRequest* request,
                           v1::PerformPeekResponse* response) override;
  grpc::Status PerformUnpeek(grpc::ServerContext* ctx, const v1::PerformUnpeekRequest* request,
                             v1::PerformUnpeekResponse* response) override;
  grpc::Status PerformInboundPeek(grpc::ServerContext* ctx,
                                  const v1::PerformInboundPeekRequest* request,
                                  v1::PerformInboundPeekResponse* response) override;
  grpc::Status PerformRetireInboundPeek(grpc::ServerContext* ctx,
                                        const v1::PerformRetireInboundPeekRequest* request,
                                        v1::PerformRetireInboundPeekResponse* response) override;
  grpc::Status QueryLocalPeekers(grpc::ServerContext* ctx,
                                 const v1::QueryLocalPeekersRequest* request,
                                 v1::QueryLocalPeekersResponse* response) override;
  grpc::Status PerformSetAlias(grpc::ServerContext* ctx, const v1::PerformSetAliasRequest* request,
                               v1::PerformSetAliasResponse* response) override;
  grpc::Status PerformRemoveAlias(grpc::ServerContext* ctx,
                                  const v1::PerformRemoveAliasRequest* request,
                                  v1::PerformRemoveAliasResponse* response) override;
  grpc::Status QueryAlias(grpc::ServerContext* ctx, const v1::QueryAliasRequest* request,
                          v1::QueryAliasResponse* response) override;
  grpc::Status PerformSetVisibility(grpc::ServerContext* ctx,
                                    const v1::PerformSetVisibilityRequest* request,
                                    v1::PerformSetVisibilityResponse* response) override;
  grpc::Status QueryVisibility(grpc::ServerContext* ctx, const v1::QueryVisibilityRequest* request,
                               v1::QueryVisibilityResponse* response) override;
  grpc::Status QueryPublicRooms(grpc::ServerContext* ctx,
                                const v1::QueryPublicRoomsRequest* request,
                                v1::QueryPublicRoomsResponse* response) override;
  grpc::Status QueryRoomVersion(grpc::ServerContext* ctx,
                                const v1::QueryRoomVersionRequest* request,
                                v1::QueryRoomVersionResponse* response) override;
  grpc::Status QueryMembershipTemplate(grpc::ServerContext* ctx,
                                       const v1::QueryMembershipTemplateRequest* request,
                                       v1::QueryMembershipTemplateResponse* response) override;
  grpc::Status QueryRoomSequence(grpc::ServerContext* ctx,
                                 const v1::QueryRoomSequenceRequest* request,
                                 v1::QueryRoomSequenceResponse* response) override;
  grpc::Status QueryCurrentState(grpc::ServerContext* ctx,
                                 const v1::QueryCurrentStateRequest* request,
                                 v1::QueryCurrentStateResponse* response) override;
  grpc::Status QueryMembership(grpc::ServerContext* ctx, const v1::QueryMembershipRequest* request,
                               v1::QueryMembershipResponse* response) override;
  grpc::Status QueryJoinedRooms(grpc::ServerContext* ctx,
                                const v1::QueryJoinedRoomsRequest* request,
                                v1::QueryJoinedRoomsResponse* response) override;
  grpc::Status QueryEventsById(grpc::ServerContext* ctx, const v1::QueryEventsByIdRequest* request,
                               v1::QueryEventsByIdResponse* response) override;
  grpc::Status InputRoomEvents(grpc::ServerContext* ctx, const v1::InputRoomEventsRequest* request,
                               v1::InputRoomEventsResponse* response) override;
  grpc::Status InputOutOfBandMembership(grpc::ServerContext* ctx,
                                        const v1::InputOutOfBandMembershipRequest* request,
                                        v1::InputOutOfBandMembershipResponse* response) override;
  grpc::Status QueryStateAtEvent(grpc::ServerContext* ctx,
                                 const v1::QueryStateAtEventRequest* request,
                                 v1::QueryStateAtEventResponse* response) override;

 private:
  RoomStore& store_;
  RoomCreator& creator_;
  EventSender& sender_;
  MembershipChanger& memberships_;
  RoomDirectory& directory_;
  LocalPeeks& peeks_;
  InboundPeeks& inbound_peeks_;
  EventInput& input_;
  MembershipTemplate& templates_;
  OutOfBandMembership& out_of_band_;
};

}  // namespace periscope::roomserver
