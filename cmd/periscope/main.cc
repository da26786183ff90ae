// periscope: the monolith. Every component in one process, serving every internal gRPC service
// on one port (monolith.grpc_listen); the gateway reaches them through an in-process channel, so
// the monolith and the mesh run the same code paths (interceptors and metrics included).

#include <initializer_list>
#include <vector>

#include "absl/strings/str_cat.h"
#include "internal/app/dependency_health.h"
#include "internal/app/process.h"
#include "internal/federationapi/federationapi_component.h"
#include "internal/federationsender/federationsender_component.h"
#include "internal/gateway/gateway.h"
#include "internal/gateway/upstream/direct_sync_api_client.h"
#include "internal/gateway/upstream/grpc_federation_api_client.h"
#include "internal/gateway/upstream/grpc_federation_sender_client.h"
#include "internal/gateway/upstream/grpc_roomserver_client.h"
#include "internal/gateway/upstream/grpc_sync_api_client.h"
#include "internal/gateway/upstream/grpc_user_api_client.h"
#include "internal/roomserver/roomserver_component.h"
#include "internal/syncapi/syncapi_component.h"
#include "internal/userapi/userapi_component.h"
#include "pkg/clock/clock.h"
#include "pkg/grpc/channel.h"
#include "pkg/grpc/grpc_server.h"
#include "pkg/logging/logging.h"
#include "pkg/metrics/build_info.h"
#include "pkg/metrics/metrics_server.h"
#include "pkg/process/runtime_defaults.h"
#include "pkg/process/shutdown_signal.h"
#include "pkg/status/matrix_status.h"

namespace periscope {
namespace {

constexpr char kProgram[] = "periscope";

template <typename T>
void Append(std::vector<grpc::Service*>& all, T& component) {
  for (grpc::Service* s : component.services()) all.push_back(s);
}

absl::Status Run(int argc, char** argv) {
  absl::StatusOr<app::CommandLine> cl =
      app::ParseCommandLine(argc, argv, kProgram, "the Periscope Matrix homeserver (monolith)");
  if (!cl.ok()) return cl.status();
  if (cl->exit_now) return absl::OkStatus();
  absl::StatusOr<config::Config> config = app::LoadConfig(*cl);
  if (!config.ok()) return config.status();
  const Clock& clock = SystemClock::Get();

  auto registry = std::make_shared<prometheus::Registry>();
  metrics::RegisterBuildInfo(*registry, "monolith");
  PERISCOPE_ASSIGN_OR_RETURN(matrix::SigningKey key,
                             matrix::LoadSigningKey(config->signing_key_path));
  PERISCOPE_ASSIGN_OR_RETURN(std::unique_ptr<pg::Pool> pool,
                             app::OpenPool(*config, "monolith", registry.get()));
  PERISCOPE_ASSIGN_OR_RETURN(std::unique_ptr<stream::JetStream> js,
                             app::ConnectNats(*config, "periscope", registry.get()));

  PERISCOPE_ASSIGN_OR_RETURN(auto users, userapi::UserApiComponent::Create(*config, *pool, clock));
  PERISCOPE_ASSIGN_OR_RETURN(
      auto rooms,
      roomserver::RoomserverComponent::Create(
          *config, *pool, *js, key, clock,
          // Joins of remote rooms go through the federationapi, here.
          grpcutil::Dial(config->monolith.grpc_listen.ToString(), registry.get()), registry.get()));
  PERISCOPE_ASSIGN_OR_RETURN(
      auto sync, syncapi::SyncApiComponent::Create(
                     *config, *pool, *js, clock,
                     // The roomserver is in this process, served on grpc_listen.
                     grpcutil::Dial(config->monolith.grpc_listen.ToString(), registry.get()),
                     absl::Seconds(1), registry.get()));
  PERISCOPE_ASSIGN_OR_RETURN(
      auto fedapi,
      federationapi::FederationApiComponent::Create(
          *config, *pool, key, clock,
          // The roomserver, userapi and federationsender are in this process, on grpc_listen.
          grpcutil::Dial(config->monolith.grpc_listen.ToString(), registry.get()),
          grpcutil::Dial(config->monolith.grpc_listen.ToString(), registry.get()),
          grpcutil::Dial(config->monolith.grpc_listen.ToString(), registry.get()), registry.get()));
  PERISCOPE_ASSIGN_OR_RETURN(
      auto fedsender, federationsender::FederationSenderComponent::Create(
                          *config, *pool, *js, key, clock, registry.get(),
                          grpcutil::Dial(config->monolith.grpc_listen.ToString(), registry.get())));

  std::vector<grpc::Service*> services;
  Append(services, *users);
  Append(services, *rooms);
  Append(services, *sync);
  Append(services, *fedapi);
  Append(services, *fedsender);
  PERISCOPE_ASSIGN_OR_RETURN(
      std::unique_ptr<grpcutil::GrpcServer> server,
      grpcutil::GrpcServer::Start(
          {.listen_address = config->monolith.grpc_listen.ToString(),
           .services = services,
           .health_service_names = {userapi::UserApiComponent::kServiceName,
                                    roomserver::RoomserverComponent::kServiceName,
                                    syncapi::SyncApiComponent::kServiceName,
                                    federationapi::FederationApiComponent::kServiceName,
                                    federationsender::FederationSenderComponent::kServiceName},
           .registry = registry.get()}));

  // Readiness follows what each component needs, as in the mesh: syncapi and the federationsender
  // (which consume the stream) the shared PostgreSQL pool and NATS connection; the others
  // PostgreSQL only (the roomserver above all: while NATS is out, sends go on and their output
  // waits in the outbox).
  auto set_status = [health = &server->health()](std::initializer_list<const char*> names) {
    return [health, names = std::vector<const char*>(names)](bool serving) {
      for (const char* name : names) {
        health->SetStatus(name, serving ? grpc::health::v1::HealthCheckResponse::SERVING
                                        : grpc::health::v1::HealthCheckResponse::NOT_SERVING);
      }
    };
  };
  auto postgres_dependents = std::make_unique<app::DependencyHealth>(
      std::vector<app::DependencyHealth::Check>{app::PostgresCheck(*pool)},
      set_status({userapi::UserApiComponent::kServiceName,
                  roomserver::RoomserverComponent::kServiceName,
                  federationapi::FederationApiComponent::kServiceName}),
      app::kDependencyCheckEvery);
  auto stream_dependents = std::make_unique<app::DependencyHealth>(
      std::vector<app::DependencyHealth::Check>{app::PostgresCheck(*pool), app::NatsCheck(*js)},
      set_status({syncapi::SyncApiComponent::kServiceName,
                  federationsender::FederationSenderComponent::kServiceName}),
      app::kDependencyCheckEvery);

  std::unique_ptr<gateway::UserApiClient> userapi_client =
      gateway::NewGrpcUserApiClient(server->InProcessChannel(), config->gateway.upstream_timeout);
  std::unique_ptr<gateway::FederationApiClient> federation_client =
      gateway::NewGrpcFederationApiClient(server->InProcessChannel(),
                                          config->gateway.upstream_timeout);
  std::unique_ptr<gateway::FederationSenderClient> federationsender_client =
      gateway::NewGrpcFederationSenderClient(server->InProcessChannel(),
                                             config->gateway.upstream_timeout);
  std::unique_ptr<gateway::RoomserverClient> roomserver_client = gateway::NewGrpcRoomserverClient(
      server->InProcessChannel(), config->gateway.upstream_timeout);
  // /sync goes to syncapi directly (no gRPC call objects per parked long-poll); the rest of the
  // syncapi API through the in-process channel.
  std::unique_ptr<gateway::SyncApiClient> sync_client = gateway::NewDirectSyncApiClient(
      [sync = sync.get()](const syncapi::v1::SyncRequest& request,
                          gateway::Callback<syncapi::v1::SyncResponse> done) {
        return sync->SyncInProcess(request, std::move(done));
      },
      gateway::NewGrpcSyncApiClient(server->InProcessChannel(), config->gateway.upstream_timeout));
  PERISCOPE_ASSIGN_OR_RETURN(
      std::unique_ptr<metrics::MetricsServer> metrics,
      metrics::MetricsServer::Start(config->monolith.metrics_listen.host,
                                    config->monolith.metrics_listen.port, registry));
  PERISCOPE_ASSIGN_OR_RETURN(
      std::unique_ptr<gateway::Gateway> gw,
      gateway::Gateway::Start(*config,
                              {.userapi = userapi_client.get(),
                               .roomserver = roomserver_client.get(),
                               .syncapi = sync_client.get(),
                               .federationapi = federation_client.get(),
                               .federationsender = federationsender_client.get(),
                               .nats = js.get()},
                              registry.get(), clock));

  logging::Info(
      "monolith.started",
      {{"server_name", config->server_name},
       {"client", absl::StrCat(config->gateway.client_listen.host, ":", gw->client_port())},
       {"federation",
        absl::StrCat(config->gateway.federation_listen.host, ":", gw->federation_port())},
       {"grpc", absl::StrCat(config->monolith.grpc_listen.host, ":", server->port())},
       {"metrics", absl::StrCat(config->monolith.metrics_listen.host, ":", metrics->port())}});
  int sig = process::WaitForShutdownSignal();
  logging::Info("monolith.stopping", {{"signal", sig}});
  gw->Stop();
  stream_dependents.reset();
  postgres_dependents.reset();
  sync->ReleaseWaiters();  // long-polls answer now instead of holding the drain
  server->Shutdown(absl::Seconds(5));
  return absl::OkStatus();
}

}  // namespace
}  // namespace periscope

int main(int argc, char** argv) {
  periscope::process::BlockShutdownSignals();
  periscope::process::ApplyServerRuntimeDefaults();
  absl::Status s = periscope::Run(argc, argv);
  if (!s.ok()) return periscope::app::Fail(periscope::kProgram, s);
  return 0;
}
