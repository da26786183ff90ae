#include "pkg/grpc/grpc_server.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "pkg/grpc/channel.h"
#include "pkg/metrics/grpc_metrics.h"

namespace periscope::grpcutil {

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(GrpcServerOptions options) {
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<GrpcServer> self(new GrpcServer());
  self->registry_ = options.registry;

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(), &self->port_);
  // gRPC sets SO_REUSEPORT by default, which lets a second process bind the same port and
  // silently steal half the calls; a port conflict must be a start-up error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  grpc::ResourceQuota quota(absl::StrCat("periscope:", options.listen_address));
  quota.Resize(static_cast<size_t>(options.memory_quota_bytes));
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(&self->health_);
  for (grpc::Service* service : options.services) builder.RegisterService(service);
  if (options.registry != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
    factories.push_back(metrics::NewServerMetricsInterceptor(*options.registry));
    builder.experimental().SetInterceptorCreators(std::move(factories));
  }
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("gRPC: cannot listen on ", options.listen_address));
  }
  self->health_.SetStatus("", grpc::health::v1::HealthCheckResponse::SERVING);
  for (const std::string& name : options.health_service_names) {
    self->health_.SetStatus(name, grpc::health::v1::HealthCheckResponse::SERVING);
  }
  return self;
}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

std::shared_ptr<grpc::Channel> GrpcServer::InProcessChannel() {
  grpc::ChannelArguments args;
  if (registry_ == nullptr) return server_->InProcessChannel(args);
  return server_->experimental().InProcessChannelWithInterceptors(args,
                                                                  ClientInterceptors(registry_));
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  health_.Shutdown();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace periscope::grpcutil
