#include "internal/app/process.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "internal/app/dependency_health.h"
#include "pkg/grpc/grpc_server.h"
#include "pkg/logging/logging.h"
#include "pkg/metrics/build_info.h"
#include "pkg/metrics/metrics_server.h"
#include "pkg/process/runtime_defaults.h"
#include "pkg/process/shutdown_signal.h"

namespace periscope::app {
namespace {

const config::ComponentConfig& ComponentSection(const config::Config& c, absl::string_view name) {
  if (name == "userapi") return c.userapi;
  if (name == "roomserver") return c.roomserver;
  if (name == "syncapi") return c.syncapi;
  if (name == "federationapi") return c.federationapi;
  return c.federationsender;
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(int argc, char** argv, absl::string_view program,
                                             absl::string_view summary) {
  CommandLine cl;
  const char* env = std::getenv("PERISCOPE_CONFIG");
  cl.config_path = env != nullptr && *env != '\0' ? env : "periscope.yaml";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf(
          "%s: %s\n\nUsage: %s [--config PATH]\n\n"
          "  --config PATH  the YAML configuration (default $PERISCOPE_CONFIG, else "
          "periscope.yaml)\n"
          "  --version      print the version\n\n"
          "Any configuration key can be overridden with PERISCOPE_<KEY>[__<KEY>...] variables;\n"
          "see periscope.sample.yaml.\n",
          std::string(program).c_str(), std::string(summary).c_str(), std::string(program).c_str());
      cl.exit_now = true;
    } else if (arg == "--version") {
      std::printf("%s %s\n", std::string(program).c_str(), metrics::kPeriscopeVersion);
      cl.exit_now = true;
    } else if (arg == "--config" && i + 1 < argc) {
      cl.config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      cl.config_path = arg.substr(9);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument ", arg, " (see --help)"));
    }
  }
  return cl;
}

absl::StatusOr<config::Config> LoadConfig(const CommandLine& command_line) {
  absl::StatusOr<config::Config> c =
      config::LoadConfig(command_line.config_path, config::ProcessEnvironment());
  if (!c.ok()) return c.status();
  logging::Configure(c->logging.level, c->logging.format);
  return c;
}

absl::StatusOr<std::unique_ptr<pg::Pool>> OpenPool(const config::Config& config,
                                                   absl::string_view name,
                                                   prometheus::Registry* registry) {
  return pg::Pool::Create({.dsn = config.database.dsn,
                           .max_connections = config.database.max_connections,
                           .acquire_timeout = config.database.acquire_timeout,
                           .connect_timeout = config.database.connect_timeout,
                           .statement_timeout = config.database.statement_timeout,
                           .name = std::string(name),
                           .registry = registry});
}

absl::StatusOr<std::unique_ptr<stream::JetStream>> ConnectNats(const config::Config& config,
                                                               absl::string_view client_name,
                                                               prometheus::Registry* registry) {
  return stream::JetStream::Connect(
      {.url = config.nats.url, .client_name = std::string(client_name), .registry = registry});
}

int Fail(absl::string_view program, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", std::string(program).c_str(),
               std::string(status.message()).c_str());
  return 1;
}

int RunComponentMain(int argc, char** argv, absl::string_view program, absl::string_view component,
                     ComponentBuilder build) {
  process::BlockShutdownSignals();
  process::ApplyServerRuntimeDefaults();
  absl::StatusOr<CommandLine> cl = ParseCommandLine(
      argc, argv, program, absl::StrCat("the Periscope ", component, " component"));
  if (!cl.ok()) return Fail(program, cl.status());
  if (cl->exit_now) return 0;
  absl::StatusOr<config::Config> config = LoadConfig(*cl);
  if (!config.ok()) return Fail(program, config.status());

  auto registry = std::make_shared<prometheus::Registry>();
  metrics::RegisterBuildInfo(*registry, component);
  ComponentEnv env{*config, registry.get()};
  absl::StatusOr<ServedComponent> served = build(env);
  if (!served.ok()) return Fail(program, served.status());

  const config::ComponentConfig& section = ComponentSection(*config, component);
  absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics = metrics::MetricsServer::Start(
      section.metrics_listen.host, section.metrics_listen.port, registry);
  if (!metrics.ok()) return Fail(program, metrics.status());
  absl::StatusOr<std::unique_ptr<grpcutil::GrpcServer>> server =
      grpcutil::GrpcServer::Start({.listen_address = section.grpc_listen.ToString(),
                                   .services = served->services,
                                   .health_service_names = served->health_names,
                                   .registry = registry.get()});
  if (!server.ok()) return Fail(program, server.status());
  // Readiness (the component's own health service names) follows its PostgreSQL and NATS.
  auto dependencies = std::make_unique<DependencyHealth>(
      served->dependency_checks,
      [health = &(*server)->health(), names = served->health_names](bool serving) {
        for (const std::string& name : names) {
          health->SetStatus(name, serving ? grpc::health::v1::HealthCheckResponse::SERVING
                                          : grpc::health::v1::HealthCheckResponse::NOT_SERVING);
        }
      },
      kDependencyCheckEvery);

  logging::Info("component.started",
                {{"component", component},
                 {"grpc", absl::StrCat(section.grpc_listen.host, ":", (*server)->port())},
                 {"metrics", absl::StrCat(section.metrics_listen.host, ":", (*metrics)->port())}});
  int sig = process::WaitForShutdownSignal();
  logging::Info("component.stopping", {{"component", component}, {"signal", sig}});
  dependencies.reset();  // before the server marks everything NOT_SERVING for the drain
  if (served->before_shutdown) served->before_shutdown();
  (*server)->Shutdown(absl::Seconds(5));
  return 0;
}

}  // namespace periscope::app
