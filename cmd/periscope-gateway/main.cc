// periscope-gateway: the Matrix HTTP gateway of the mesh (client API and federation API), calling
// the components over gRPC.

#include "absl/strings/str_cat.h"
#include "internal/app/process.h"
#include "internal/gateway/gateway.h"
#include "internal/gateway/upstream/grpc_federation_api_client.h"
#include "internal/gateway/upstream/grpc_federation_sender_client.h"
#include "internal/gateway/upstream/grpc_roomserver_client.h"
#include "internal/gateway/upstream/grpc_sync_api_client.h"
#include "internal/gateway/upstream/grpc_user_api_client.h"
#include "pkg/clock/clock.h"
#include "pkg/grpc/channel.h"
#include "pkg/logging/logging.h"
#include "pkg/metrics/build_info.h"
#include "pkg/metrics/metrics_server.h"
#include "pkg/process/runtime_defaults.h"
#include "pkg/process/shutdown_signal.h"

int main(int argc, char** argv) {
  using namespace periscope;
  constexpr char kProgram[] = "periscope-gateway";
  process::BlockShutdownSignals();
  process::ApplyServerRuntimeDefaults();
  absl::StatusOr<app::CommandLine> cl =
      app::ParseCommandLine(argc, argv, kProgram, "the Periscope Matrix HTTP gateway");
  if (!cl.ok()) return app::Fail(kProgram, cl.status());
  if (cl->exit_now) return 0;
  absl::StatusOr<config::Config> config = app::LoadConfig(*cl);
  if (!config.ok()) return app::Fail(kProgram, config.status());

  auto registry = std::make_shared<prometheus::Registry>();
  metrics::RegisterBuildInfo(*registry, "gateway");
  std::unique_ptr<gateway::UserApiClient> userapi = gateway::NewGrpcUserApiClient(
      grpcutil::Dial(config->userapi.address, registry.get()), config->gateway.upstream_timeout);
  std::unique_ptr<gateway::FederationApiClient> federationapi = gateway::NewGrpcFederationApiClient(
      grpcutil::Dial(config->federationapi.address, registry.get()),
      config->gateway.upstream_timeout);
  std::unique_ptr<gateway::FederationSenderClient> federationsender =
      gateway::NewGrpcFederationSenderClient(
          grpcutil::Dial(config->federationsender.address, registry.get()),
          config->gateway.upstream_timeout);
  std::unique_ptr<gateway::RoomserverClient> roomserver = gateway::NewGrpcRoomserverClient(
      grpcutil::Dial(config->roomserver.address, registry.get()), config->gateway.upstream_timeout);
  std::unique_ptr<gateway::SyncApiClient> syncapi = gateway::NewGrpcSyncApiClient(
      grpcutil::Dial(config->syncapi.address, registry.get()), config->gateway.upstream_timeout);
  absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics = metrics::MetricsServer::Start(
      config->gateway.metrics_listen.host, config->gateway.metrics_listen.port, registry);
  if (!metrics.ok()) return app::Fail(kProgram, metrics.status());
  absl::StatusOr<std::unique_ptr<stream::JetStream>> nats =
      app::ConnectNats(*config, "periscope-gateway", registry.get());
  if (!nats.ok()) return app::Fail(kProgram, nats.status());
  absl::StatusOr<std::unique_ptr<gateway::Gateway>> gw =
      gateway::Gateway::Start(*config,
                              {.userapi = userapi.get(),
                               .roomserver = roomserver.get(),
                               .syncapi = syncapi.get(),
                               .federationapi = federationapi.get(),
                               .federationsender = federationsender.get(),
                               .nats = nats->get()},
                              registry.get(), SystemClock::Get());
  if (!gw.ok()) return app::Fail(kProgram, gw.status());
  logging::Info(
      "component.started",
      {{"component", "gateway"},
       {"client", absl::StrCat(config->gateway.client_listen.host, ":", (*gw)->client_port())},
       {"federation",
        absl::StrCat(config->gateway.federation_listen.host, ":", (*gw)->federation_port())},
       {"metrics", absl::StrCat(config->gateway.metrics_listen.host, ":", (*metrics)->port())}});
  int sig = process::WaitForShutdownSignal();
  logging::Info("component.stopping", {{"component", "gateway"}, {"signal", sig}});
  (*gw)->Stop();
  return 0;
}
