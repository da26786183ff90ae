#pragma once
// The one configuration of every Periscope process (monolith and each mesh component).
//
// Loaded from a YAML file (see periscope.sample.yaml), then overridden by environment variables
// PERISCOPE_<KEY>[__<KEY>...] (nesting with a double underscore, e.g. PERISCOPE_DATABASE__DSN or
// PERISCOPE_USERAPI__GRPC_LISTEN), then validated. Every error names the key, the value found and
// what was expected, and the process exits before serving.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "pkg/logging/logging.h"

namespace periscope::config {

// host:port. Port 0 means "any free port" (useful in tests; the bound port is logged).
struct HostPort {
  std::string host;
  int port = 0;
  std::string ToString() const;
};

struct DatabaseConfig {
  // A libpq connection string ("host=... port=... dbname=..." or "postgresql://...").
  std::string dsn;
  // Connections in the pool of each component (the monolith shares one pool of this size).
  int max_connections = 8;
  // How long a caller waits for a free pooled connection.
  absl::Duration acquire_timeout = absl::Seconds(5);
  // How long opening a connection may take (an unreachable server fails fast, not after the
  // kernel's TCP timeout).
  absl::Duration connect_timeout = absl::Seconds(5);
  // The server cancels any statement running longer than this, so one stuck query cannot hold a
  // pooled connection (and a room's write lock) forever.
  absl::Duration statement_timeout = absl::Seconds(30);
};

struct NatsConfig {
  std::string url;
  // Prefix for stream names, so several deployments can share one NATS.
  std::string stream_prefix = "PERISCOPE";
  // JetStream replicas of each stream (1 on a single server).
  int replicas = 1;
  // Retention of the roomserver output stream: messages older than this, or past this many
  // bytes (0: no byte limit), are dropped even if a consumer has not read them. Sized far above
  // any healthy consumer lag; the lag is a metric (periscope_stream_consumer_pending_messages)
  // with alerts long before it nears these.
  absl::Duration output_max_age = absl::Hours(24 * 7);
  int64_t output_max_bytes = 0;
};

struct LoggingConfig {
  logging::Level level = logging::Level::kInfo;
  logging::Format format = logging::Format::kText;
};

// Where a mesh component listens, and where the others reach it.
struct ComponentConfig {
  HostPort grpc_listen;
  HostPort metrics_listen;
  // The address clients dial (e.g. a Kubernetes Service name); defaults to grpc_listen.
  std::string address;
};

struct PasswordHashConfig {
  // argon2id cost. Defaults are libsodium's "interactive" limits; benchmarks may lower them.
  uint64_t ops_limit = 2;
  uint64_t mem_limit_kib = 65536;
  // Hashes at once (each takes mem_limit_kib), 0: one per CPU; and callers that may wait for one
  // (beyond: 429 M_LIMIT_EXCEEDED), so a burst of logins cannot exhaust memory.
  int max_concurrent = 0;
  int max_waiting = 64;
};

struct UserApiConfig : ComponentConfig {
  PasswordHashConfig password_hash;
  bool registration_enabled = true;
};

struct GatewayConfig {
  HostPort client_listen;
  HostPort federation_listen;
  HostPort metrics_listen;
  // Largest request body accepted (413 M_TOO_LARGE beyond).
  int64_t max_body_bytes = 1 << 20;
  // How long a validated access token is trusted without asking the userapi.
  absl::Duration token_cache_ttl = absl::Seconds(30);
  // Deadline of each ordinary gRPC call to a component (long-polls use their own timeout).
  absl::Duration upstream_timeout = absl::Seconds(10);
  // Threads running the HTTP event loop.
  int io_threads = 2;
  // How long a client may take to send a request's headers and body (and how long an idle
  // kept-alive connection is kept); a /sync long-poll being answered is not subject to it.
  absl::Duration request_read_timeout = absl::Seconds(30);
  // Open connections per listener, in all and from one address (0: no limit); past them a
  // connection is answered 503 M_LIMIT_EXCEEDED and closed. Behind a reverse proxy every
  // connection comes from the proxy: raise the per-address limit or set it to 0.
  int max_connections = 20000;
  int max_connections_per_address = 1024;
  // POST /login per client address and per user, and POST /register per address: a burst, then
  // this many a minute (429 M_LIMIT_EXCEEDED with retry_after_ms beyond), so that nobody can
  // guess passwords or mint accounts at full speed.
  int auth_rate_limit_burst = 10;
  int auth_rate_limit_per_minute = 30;
};

// The monolith's single gRPC server (all services) and metrics endpoint.
// Peeking (MSC2753 local, MSC2444 federated).
struct PeekingConfig {
  // How long a local peek lives without a re-POST of /peek or a /sync of its device.
  absl::Duration local_peek_lifetime = absl::Hours(1);
  // POST /peek per device: a burst, then this many per second (429 M_LIMIT_EXCEEDED beyond).
  int rate_limit_burst = 20;
  int rate_limit_per_second = 2;
  // MSC2444, inbound: how long another server's peek into one of our rooms lives without a
  // renewal (the renewal_interval we answer).
  absl::Duration federation_renewal_interval = absl::Hours(1);
  // Live peeks one server may hold into our rooms (429 M_LIMIT_EXCEEDED beyond).
  int max_inbound_peeks_per_server = 100;
  // PUT /peek per peeking server: a burst, then this many per second (429 beyond).
  int inbound_rate_limit_burst = 20;
  int inbound_rate_limit_per_second = 2;
};

// Server-server federation: the listener's TLS, and how this server reaches others.
struct FederationConfig {
  // The federation listener's (gateway.federation_listen) certificate chain and private key, PEM.
  std::string tls_certificate;
  std::string tls_private_key;
  // Serve plain HTTP on the federation listener instead: only behind a proxy that terminates TLS.
  bool plain_http = false;
  // How other servers' certificates are checked: "true" (the system's CAs), "false" (not at all:
  // private test networks only) or the path of a CA bundle.
  std::string tls_verify = "true";
  // server name -> host:port, consulted before any discovery (DNS, well-known). These addresses
  // may be private ones.
  std::map<std::string, std::string> servers;
  // Contact loopback and private addresses found by discovery too. Off: a name anyone can make
  // us contact (an X-Matrix origin, a user id) never reaches this host or its private network.
  bool allow_private_addresses = false;
  // Servers asked for another server's keys when it cannot be reached itself (notaries).
  std::vector<std::string> trusted_key_servers;
  // How long the key document we serve says our key is valid.
  absl::Duration key_validity = absl::Hours(24 * 7);
  // Deadline of each outbound federation request.
  absl::Duration request_timeout = absl::Seconds(30);
};

struct MonolithConfig {
  HostPort grpc_listen;
  HostPort metrics_listen;
};

struct Config {
  std::string server_name;
  std::string signing_key_path;
  DatabaseConfig database;
  NatsConfig nats;
  LoggingConfig logging;
  MonolithConfig monolith;
  GatewayConfig gateway;
  PeekingConfig peeking;
  FederationConfig federation;
  UserApiConfig userapi;
  ComponentConfig roomserver;
  ComponentConfig syncapi;
  ComponentConfig federationapi;
  ComponentConfig federationsender;
};

using Environment = std::map<std::string, std::string>;

// The process environment as a map.
Environment ProcessEnvironment();

// Parses YAML text, applies `env` overrides and validates. `source` names the file in errors.
absl::StatusOr<Config> ParseConfig(absl::string_view yaml_text, const Environment& env,
                                   absl::string_view source = "config");

// Reads and parses a file.
absl::StatusOr<Config> LoadConfig(const std::string& path, const Environment& env);

}  // namespace periscope::config
