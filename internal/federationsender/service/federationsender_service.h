#pragma once
// FederationSenderService: outbound server-server traffic, and the registry of inbound peeks
// (MSC2444): which servers peek which of our rooms, their renewal and their end at the peeking
// server's request. Peeks are registered through the output stream (new_inbound_peek, at their
// place in the room's events), never here. Also our outbound peeks (outbound_peeks.h): recorded
// once the federationapi has started one, ended by the peeked server, listed.

#include <functional>

#include "internal/federationsender/peeks/outbound_peeks.h"
#include "internal/federationsender/query/remote_queries.h"
#include "internal/federationsender/storage/queue_store.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"
#include "pkg/clock/clock.h"

namespace periscope::federationsender {

class FederationSenderServiceImpl final : public v1::FederationSenderService::Service {
 public:
  using WakeFn = std::function<void(const std::string& server_name)>;
  FederationSenderServiceImpl(RemoteQueries& queries, WakeFn wake, QueueStore& store,
                              OutboundPeeks& outbound, const Clock& clock,
                              absl::Duration renewal_interval)
      : queries_(queries),
        wake_(std::move(wake)),
        store_(store),
        outbound_(outbound),
        clock_(clock),
        renewal_interval_(renewal_interval) {}

  grpc::Status QueryRemoteProfile(grpc::ServerContext* context,
                                  const v1::QueryRemoteProfileRequest* request,
                                  v1::QueryRemoteProfileResponse* response) override;
  grpc::Status QueryRemoteAlias(grpc::ServerContext* context,
                                const v1::QueryRemoteAliasRequest* request,
                                v1::QueryRemoteAliasResponse* response) override;

  grpc::Status QueryInboundPeek(grpc::ServerContext* context,
                                const v1::QueryInboundPeekRequest* request,
                                v1::QueryInboundPeekResponse* response) override;
  // NOT_FOUND (M_NOT_FOUND) for a peek that is not live.
  grpc::Status PerformInboundPeekRenewal(grpc::ServerContext* context,
                                         const v1::PerformInboundPeekRenewalRequest* request,
                                         v1::PerformInboundPeekRenewalResponse* response) override;
  grpc::Status PerformInboundUnpeek(grpc::ServerContext* context,
                                    const v1::PerformInboundUnpeekRequest* request,
                                    v1::PerformInboundUnpeekResponse* response) override;

  grpc::Status PerformOutboundPeek(grpc::ServerContext* context,
                                   const v1::PerformOutboundPeekRequest* request,
                                   v1::PerformOutboundPeekResponse* response) override;
  grpc::Status PerformOutboundUnpeek(grpc::ServerContext* context,
                                     const v1::PerformOutboundUnpeekRequest* request,
                                     v1::PerformOutboundUnpeekResponse* response) override;
  grpc::Status QueryOutboundPeeks(grpc::ServerContext* context,
                                  const v1::QueryOutboundPeeksRequest* request,
                                  v1::QueryOutboundPeeksResponse* response) override;

  grpc::Status PerformWakeDestination(grpc::ServerContext* context,
                                      const v1::PerformWakeDestinationRequest* request,
                                      v1::PerformWakeDestinationResponse* response) override;

 private:
  RemoteQueries& queries_;
  WakeFn wake_;
  QueueStore& store_;
  OutboundPeeks& outbound_;
  const Clock& clock_;
  const absl::Duration renewal_interval_;
};

}  // namespace periscope::federationsender
