#pragma once
// The gateway's view of the federationapi (asynchronous, gRPC-free; see user_api_client.h).

#include "internal/gateway/upstream/user_api_client.h"
#include "periscope/federationapi/v1/federationapi.pb.h"

namespace periscope::gateway {

namespace federationapi_v1 = ::periscope::federationapi::v1;

class FederationApiClient {
 public:
  virtual ~FederationApiClient() = default;
  virtual void GetServerKeys(const federationapi_v1::GetServerKeysRequest& request,
                             Callback<federationapi_v1::GetServerKeysResponse> done) = 0;
  virtual void GetVersion(const federationapi_v1::GetVersionRequest& request,
                          Callback<federationapi_v1::GetVersionResponse> done) = 0;
  virtual void QueryKeys(const federationapi_v1::QueryKeysRequest& request,
                         Callback<federationapi_v1::QueryKeysResponse> done) = 0;
  virtual void QueryDirectory(const federationapi_v1::QueryDirectoryRequest& request,
                              Callback<federationapi_v1::QueryDirectoryResponse> done) = 0;
  virtual void SendTransaction(const federationapi_v1::SendTransactionRequest& request,
                               Callback<federationapi_v1::SendTransactionResponse> done) = 0;
  virtual void GetEvent(const federationapi_v1::GetEventRequest& request,
                        Callback<federationapi_v1::GetEventResponse> done) = 0;
  virtual void GetState(const federationapi_v1::GetStateRequest& request,
                        Callback<federationapi_v1::GetStateResponse> done) = 0;
  virtual void GetStateIds(const federationapi_v1::GetStateIdsRequest& request,
                           Callback<federationapi_v1::GetStateIdsResponse> done) = 0;
  virtual void GetEventAuth(const federationapi_v1::GetEventAuthRequest& request,
                            Callback<federationapi_v1::GetEventAuthResponse> done) = 0;
  virtual void GetMissingEvents(const federationapi_v1::GetMissingEventsRequest& request,
                                Callback<federationapi_v1::GetMissingEventsResponse> done) = 0;
  virtual void Backfill(const federationapi_v1::BackfillRequest& request,
                        Callback<federationapi_v1::BackfillResponse> done) = 0;
  virtual void QueryProfile(const federationapi_v1::QueryProfileRequest& request,
                            Callback<federationapi_v1::QueryProfileResponse> done) = 0;
  virtual void MakeJoin(const federationapi_v1::MakeJoinRequest& request,
                        Callback<federationapi_v1::MakeJoinResponse> done) = 0;
  virtual void SendJoin(const federationapi_v1::SendJoinRequest& request,
                        Callback<federationapi_v1::SendJoinResponse> done) = 0;
  virtual void MakeLeave(const federationapi_v1::MakeLeaveRequest& request,
                         Callback<federationapi_v1::MakeLeaveResponse> done) = 0;
  virtual void SendLeave(const federationapi_v1::SendLeaveRequest& request,
                         Callback<federationapi_v1::SendLeaveResponse> done) = 0;
  virtual void Invite(const federationapi_v1::InviteRequest& request,
                      Callback<federationapi_v1::InviteResponse> done) = 0;
  virtual void Peek(const federationapi_v1::PeekRequest& request,
                    Callback<federationapi_v1::PeekResponse> done) = 0;
  virtual void RenewPeek(const federationapi_v1::RenewPeekRequest& request,
                         Callback<federationapi_v1::RenewPeekResponse> done) = 0;
  virtual void Unpeek(const federationapi_v1::UnpeekRequest& request,
                      Callback<federationapi_v1::UnpeekResponse> done) = 0;
};

}  // namespace periscope::gateway
