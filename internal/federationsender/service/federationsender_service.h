#pragma once
// FederationSenderService: outbound server-server traffic. The peek RPCs answer UNIMPLEMENTED
// until federated peeking is built.

#include <functional>

#include "internal/federationsender/query/remote_queries.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"

namespace periscope::federationsender {

class FederationSenderServiceImpl final : public v1::FederationSenderService::Service {
 public:
  using WakeFn = std::function<void(const std::string& server_name)>;
  FederationSenderServiceImpl(RemoteQueries& queries, WakeFn wake)
      : queries_(queries), wake_(std::move(wake)) {}

  grpc::Status QueryRemoteProfile(grpc::ServerContext* context,
                                  const v1::QueryRemoteProfileRequest* request,
                                  v1::QueryRemoteProfileResponse* response) override;
  grpc::Status QueryRemoteAlias(grpc::ServerContext* context,
                                const v1::QueryRemoteAliasRequest* request,
                                v1::QueryRemoteAliasResponse* response) override;

  grpc::Status PerformWakeDestination(grpc::ServerContext* context,
                                      const v1::PerformWakeDestinationRequest* request,
                                      v1::PerformWakeDestinationResponse* response) override;

 private:
  RemoteQueries& queries_;
  WakeFn wake_;
};

}  // namespace periscope::federationsender
