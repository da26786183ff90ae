#pragma once
// The gateway's view of the roomserver: asynchronous calls with completion callbacks (which run
// on a gRPC thread). Narrow and gRPC-free, so route handlers and their tests never include gRPC.

#include "internal/gateway/upstream/user_api_client.h"
#include "periscope/roomserver/v1/roomserver.pb.h"

namespace periscope::gateway {

namespace roomserver_v1 = ::periscope::roomserver::v1;

class RoomserverClient {
 public:
  virtual ~RoomserverClient() = default;
  virtual void PerformCreateRoom(const roomserver_v1::PerformCreateRoomRequest& request,
                                 Callback<roomserver_v1::PerformCreateRoomResponse> done) = 0;
  virtual void PerformSendEvent(const roomserver_v1::PerformSendEventRequest& request,
                                Callback<roomserver_v1::PerformSendEventResponse> done) = 0;
  virtual void PerformMembership(const roomserver_v1::PerformMembershipRequest& request,
                                 Callback<roomserver_v1::PerformMembershipResponse> done) = 0;
  virtual void PerformPeek(const roomserver_v1::PerformPeekRequest& request,
                           Callback<roomserver_v1::PerformPeekResponse> done) = 0;
  virtual void PerformUnpeek(const roomserver_v1::PerformUnpeekRequest& request,
                             Callback<roomserver_v1::PerformUnpeekResponse> done) = 0;
  virtual void QueryMembership(const roomserver_v1::QueryMembershipRequest& request,
                               Callback<roomserver_v1::QueryMembershipResponse> done) = 0;
  virtual void QueryCurrentState(const roomserver_v1::QueryCurrentStateRequest& request,
                                 Callback<roomserver_v1::QueryCurrentStateResponse> done) = 0;
  virtual void QueryEventsById(const roomserver_v1::QueryEventsByIdRequest& request,
                               Callback<roomserver_v1::QueryEventsByIdResponse> done) = 0;
  virtual void PerformSetAlias(const roomserver_v1::PerformSetAliasRequest& request,
                               Callback<roomserver_v1::PerformSetAliasResponse> done) = 0;
  virtual void PerformRemoveAlias(const roomserver_v1::PerformRemoveAliasRequest& request,
                                  Callback<roomserver_v1::PerformRemoveAliasResponse> done) = 0;
  virtual void QueryAlias(const roomserver_v1::QueryAliasRequest& request,
                          Callback<roomserver_v1::QueryAliasResponse> done) = 0;
  virtual void PerformSetVisibility(const roomserver_v1::PerformSetVisibilityRequest& request,
                                    Callback<roomserver_v1::PerformSetVisibilityResponse> done) = 0;
  virtual void QueryVisibility(const roomserver_v1::QueryVisibilityRequest& request,
                               Callback<roomserver_v1::QueryVisibilityResponse> done) = 0;
  virtual void QueryPublicRooms(const roomserver_v1::QueryPublicRoomsRequest& request,
                                Callback<roomserver_v1::QueryPublicRoomsResponse> done) = 0;
  virtual void QueryJoinedRooms(const roomserver_v1::QueryJoinedRoomsRequest& request,
                                Callback<roomserver_v1::QueryJoinedRoomsResponse> done) = 0;
};

}  // namespace periscope::gateway
