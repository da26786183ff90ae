#pragma once
// FederationSenderService: outbound server-server traffic. The peek RPCs answer UNIMPLEMENTED
// until federated peeking is built.

#include "internal/federationsender/query/remote_queries.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"

namespace periscope::federationsender {

class FederationSenderServiceImpl final : public v1::FederationSenderService::Service {
 public:
  explicit FederationSenderServiceImpl(RemoteQueries& queries) : queries_(queries) {}

  grpc::Status QueryRemoteProfile(grpc::ServerContext* context,
                                  const v1::QueryRemoteProfileRequest* request,
                                  v1::QueryRemoteProfileResponse* response) override;
  grpc::Status QueryRemoteAlias(grpc::ServerContext* context,
                                const v1::QueryRemoteAliasRequest* request,
                                v1::QueryRemoteAliasResponse* response) override;

 private:
  RemoteQueries& queries_;
};

}  // namespace periscope::federationsender
