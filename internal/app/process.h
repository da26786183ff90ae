#pragma once
// What every Periscope binary does around its component(s): command line, configuration,
// logging, the PostgreSQL pool, the NATS connection, the signing key, the metrics endpoint, the
// gRPC server, and a clean stop on SIGINT/SIGTERM.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/config/config.h"
#include "pkg/matrix/signing_key.h"
#include "pkg/pg/pg.h"
#include "pkg/stream/jetstream.h"
#include "prometheus/registry.h"

namespace periscope::app {

struct CommandLine {
  std::string config_path;
  bool exit_now = false;  // --help or --version was answered
};

// --config PATH (default: $PERISCOPE_CONFIG, else periscope.yaml), --help, --version.
absl::StatusOr<CommandLine> ParseCommandLine(int argc, char** argv, absl::string_view program,
                                             absl::string_view summary);

// Loads the configuration (file + environment) and applies its logging settings.
absl::StatusOr<config::Config> LoadConfig(const CommandLine& command_line);

absl::StatusOr<std::unique_ptr<pg::Pool>> OpenPool(const config::Config& config,
                                                   absl::string_view name,
                                                   prometheus::Registry* registry);
absl::StatusOr<std::unique_ptr<stream::JetStream>> ConnectNats(const config::Config& config,
                                                               absl::string_view client_name,
                                                               prometheus::Registry* registry);

// What a component contributes to the process that serves it.
struct ServedComponent {
  std::vector<grpc::Service*> services;
  std::vector<std::string> health_names;
  // Objects that must live as long as the server (the component itself, its pool, ...).
  std::vector<std::shared_ptr<void>> owned;
  // Runs after the shutdown signal, before the gRPC server drains (e.g. answering long-polls).
  std::function<void()> before_shutdown;
  // What must be reachable for the component to serve (app/dependency_health.h); while one fails
  // its health services read NOT_SERVING.
  std::vector<std::function<absl::Status()>> dependency_checks;
};

// How often a process checks its dependencies for its gRPC health.
inline constexpr absl::Duration kDependencyCheckEvery = absl::Seconds(5);

// Everything a component's builder may use.
struct ComponentEnv {
  const config::Config& config;
  prometheus::Registry* registry;
};

using ComponentBuilder = std::function<absl::StatusOr<ServedComponent>(ComponentEnv&)>;

// main() of a mesh component binary: serves `build`'s services on the component's grpc_listen
// and its metrics on metrics_listen, until SIGINT/SIGTERM.
int RunComponentMain(int argc, char** argv, absl::string_view program, absl::string_view component,
                     ComponentBuilder build);

// Prints "<program>: <status>" and returns 1 (for main()).
int Fail(absl::string_view program, const absl::Status& status);

}  // namespace periscope::app
