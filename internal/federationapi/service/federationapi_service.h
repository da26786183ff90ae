#pragma once
// FederationApiService: inbound server-server requests after the gateway turned them into gRPC
// calls. Each authenticated call first verifies its X-Matrix signature (RequestVerifier), then
// answers from the components that own the data (roomserver, userapi) through their gRPC APIs.

#include <memory>
#include <string>

#include "internal/federationapi/inbound/destination_waker.h"
#include "internal/federationapi/inbound/inbound_peeks.h"
#include "internal/federationapi/inbound/invites.h"
#include "internal/federationapi/inbound/joins.h"
#include "internal/federationapi/inbound/transaction_processor.h"
#include "internal/federationapi/keyring/keyring.h"
#include "internal/federationapi/keyring/request_verifier.h"
#include "internal/federationapi/outbound/room_inviter.h"
#include "internal/federationapi/outbound/room_joiner.h"
#include "internal/federationapi/outbound/room_peeker.h"
#include "internal/federationapi/reads/federation_reads.h"
#include "periscope/federationapi/v1/federationapi_service.grpc.pb.h"
#include "periscope/roomserver/v1/roomserver_service.grpc.pb.h"
#include "periscope/userapi/v1/userapi_service.grpc.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federationapi {

struct FederationApiDeps {
  std::string server_name;
  const matrix::SigningKey* key = nullptr;
  const Clock* clock = nullptr;
  // How long the key document we serve says our key is valid.
  absl::Duration key_validity = absl::Hours(24 * 7);
  Keyring* keyring = nullptr;
  RequestVerifier* verifier = nullptr;
  roomserver::v1::RoomserverService::StubInterface* roomserver = nullptr;
  userapi::v1::UserApiService::StubInterface* userapi = nullptr;
  TransactionProcessor* transactions = nullptr;
  FederationReads* reads = nullptr;
  // make_join and send_join (resident side), and joins of local users (joining side).
  JoinHandler* joins = nullptr;
  RoomJoiner* joiner = nullptr;
  // Invites of our users (invitee side) and of other servers' users (inviting side).
  InviteHandler* invites = nullptr;
  RoomInviter* inviter = nullptr;
  // Other servers' peeks into our rooms (MSC2444).
  InboundPeekHandler* peeks = nullptr;
  // Our peeks into other servers' rooms (MSC2444).
  RoomPeeker* peeker = nullptr;
  // Told of every authenticated request's origin; may be null.
  DestinationWaker* waker = nullptr;
  // Deadline of calls to other components.
  absl::Duration upstream_timeout = absl::Seconds(10);
};

class FederationApiServiceImpl final : public v1::FederationApiService::Service {
 public:
  explicit FederationApiServiceImpl(FederationApiDeps deps) : deps_(std::move(deps)) {}

  grpc::Status GetServerKeys(grpc::ServerContext* context, const v1::GetServerKeysRequest* request,
                             v1::GetServerKeysResponse* response) override;
  grpc::Status GetVersion(grpc::ServerContext* context, const v1::GetVersionRequest* request,
                          v1::GetVersionResponse* response) override;
  grpc::Status QueryKeys(grpc::ServerContext* context, const v1::QueryKeysRequest* request,
                         v1::QueryKeysResponse* response) override;
  grpc::Status QueryDirectory(grpc::ServerContext* context,
                              const v1::QueryDirectoryRequest* request,
                              v1::QueryDirectoryResponse* response) override;
  grpc::Status QueryProfile(grpc::ServerContext* context, const v1::QueryProfileRequest* request,
                            v1::QueryProfileResponse* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                        v1::GetEventResponse* response) override;
  grpc::Status GetState(grpc::ServerContext* context, const v1::GetStateRequest* request,
                        v1::GetStateResponse* response) override;
  grpc::Status GetStateIds(grpc::ServerContext* context, const v1::GetStateIdsRequest* request,
                           v1::GetStateIdsResponse* response) override;
  grpc::Status GetEventAuth(grpc::ServerContext* context, const v1::GetEventAuthRequest* request,
                            v1::GetEventAuthResponse* response) override;
  grpc::Status GetMissingEvents(grpc::ServerContext* context,
                                const v1::GetMissingEventsRequest* request,
                                v1::GetMissingEventsResponse* response) override;
  grpc::Status Backfill(grpc::ServerContext* context, const v1::BackfillRequest* request,
                        v1::BackfillResponse* response) override;
  grpc::Status MakeJoin(grpc::ServerContext* context, const v1::MakeJoinRequest* request,
                        v1::MakeJoinResponse* response) override;
  grpc::Status SendJoin(grpc::ServerContext* context, const v1::SendJoinRequest* request,
                        v1::SendJoinResponse* response) override;
  grpc::Status MakeLeave(grpc::ServerContext* context, const v1::MakeLeaveRequest* request,
                         v1::MakeLeaveResponse* response) override;
  grpc::Status SendLeave(grpc::ServerContext* context, const v1::SendLeaveRequest* request,
                         v1::SendLeaveResponse* response) override;
  grpc::Status PerformJoin(grpc::ServerContext* context, const v1::PerformJoinRequest* request,
                           v1::PerformJoinResponse* response) override;
  grpc::Status PerformOutboundPeek(grpc::ServerContext* context,
                                   const v1::PerformOutboundPeekRequest* request,
                                   v1::PerformOutboundPeekResponse* response) override;
  grpc::Status Invite(grpc::ServerContext* context, const v1::InviteRequest* request,
                      v1::InviteResponse* response) override;
  grpc::Status PerformInvite(grpc::ServerContext* context, const v1::PerformInviteRequest* request,
                             v1::PerformInviteResponse* response) override;
  grpc::Status PerformLeave(grpc::ServerContext* context, const v1::PerformLeaveRequest* request,
                            v1::PerformLeaveResponse* response) override;
  grpc::Status Peek(grpc::ServerContext* context, const v1::PeekRequest* request,
                    v1::PeekResponse* response) override;
  grpc::Status RenewPeek(grpc::ServerContext* context, const v1::RenewPeekRequest* request,
                         v1::RenewPeekResponse* response) override;
  grpc::Status Unpeek(grpc::ServerContext* context, const v1::UnpeekRequest* request,
                      v1::UnpeekResponse* response) override;
  grpc::Status SendTransaction(grpc::ServerContext* context,
                               const v1::SendTransactionRequest* request,
                               v1::SendTransactionResponse* response) override;

 private:
  // The authenticated origin of a signed request.
  absl::StatusOr<AuthenticatedRequest> Authenticate(const v1::SignedRequest& request);
  std::unique_ptr<grpc::ClientContext> UpstreamContext() const;

  FederationApiDeps deps_;
};

}  // namespace periscope::federationapi
