#include "internal/gateway/gateway.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "internal/gateway/auth/access_token_cache.h"
#include "internal/gateway/auth/authenticator.h"
#include "internal/gateway/auth/logout_fanout.h"
#include "internal/gateway/http/http_server.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/router.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/routes/federation/federation_routes.h"
#include "pkg/logging/logging.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace periscope::gateway {
namespace {

void AddHealthRoute(Router& router) {
  router.Add("GET", "/healthz", [](RouteRequest, Responder respond) {
    respond(JsonResponse(200, Json{{"status", "ok"}}));
  });
}

}  // namespace

struct Gateway::Impl {
  Impl(const config::Config& config, GatewayUpstreams up, prometheus::Registry* registry,
       const Clock& clock)
      : cache(clock, config.gateway.token_cache_ttl),
        auth(*up.userapi, cache),
        local_logouts(cache),
        peek_limiter(clock, config.peeking.rate_limit_per_second, config.peeking.rate_limit_burst),
        auth_by_address(clock, config.gateway.auth_rate_limit_per_minute / 60.0,
                        config.gateway.auth_rate_limit_burst),
        auth_by_user(clock, config.gateway.auth_rate_limit_per_minute / 60.0,
                     config.gateway.auth_rate_limit_burst),
        deps{*up.userapi,      auth,         &local_logouts,      config.server_name,
             up.roomserver,    up.syncapi,   up.federationsender, &peek_limiter,
             &auth_by_address, &auth_by_user},
        client("client", registry),
        federation("federation", registry),
        http(config.gateway.io_threads) {}

  AccessTokenCache cache;
  Authenticator auth;
  LocalLogoutFanout local_logouts;
  RateLimiter peek_limiter;
  RateLimiter auth_by_address;
  RateLimiter auth_by_user;
  std::unique_ptr<NatsLogoutFanout> nats_logouts;
  ClientRouteDeps deps;
  Router client;
  Router federation;
  HttpServer http;
  int client_port = 0;
  int federation_port = 0;
};

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() { Stop(); }

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(const config::Config& config,
                                                        GatewayUpstreams upstreams,
                                                        prometheus::Registry* registry,
                                                        const Clock& clock) {
  if (upstreams.userapi == nullptr) return absl::InvalidArgumentError("gateway needs a userapi");
  auto impl = std::make_unique<Impl>(config, upstreams, registry, clock);
  if (upstreams.nats != nullptr) {
    absl::StatusOr<std::unique_ptr<NatsLogoutFanout>> fanout = NatsLogoutFanout::Start(
        *upstreams.nats,
        absl::StrCat(absl::AsciiStrToLower(config.nats.stream_prefix), ".gateway.logout"),
        impl->cache);
    if (!fanout.ok()) return fanout.status();
    impl->nats_logouts = *std::move(fanout);
    impl->deps.logouts = impl->nats_logouts.get();
  }

  AddHealthRoute(impl->client);
  AddVersionsRoutes(impl->client);
  AddRegisterRoutes(impl->client, impl->deps);
  AddLoginRoutes(impl->client, impl->deps);
  AddAccountRoutes(impl->client, impl->deps);
  if (upstreams.roomserver != nullptr) {
    AddRoomRoutes(impl->client, impl->deps);
    AddMembershipRoutes(impl->client, impl->deps);
    AddRoomReadRoutes(impl->client, impl->deps);
    AddDirectoryRoutes(impl->client, impl->deps);
    AddPeekRoutes(impl->client, impl->deps);
  }
  if (upstreams.syncapi != nullptr) {
    AddSyncRoutes(impl->client, impl->deps);
    AddAccountDataRoutes(impl->client, impl->deps);
  }
  AddPresenceRoutes(impl->client, impl->deps);
  AddClientConfigRoutes(impl->client, impl->deps);
  AddProfileRoutes(impl->client, impl->deps);
  AddFilterRoutes(impl->client, impl->deps);
  AddHealthRoute(impl->federation);
  if (upstreams.federationapi != nullptr) {
    AddKeyRoutes(impl->federation, *upstreams.federationapi);
    AddFederationQueryRoutes(impl->federation, *upstreams.federationapi);
    AddTransactionRoutes(impl->federation, *upstreams.federationapi);
    AddEventReadRoutes(impl->federation, *upstreams.federationapi);
    AddJoinRoutes(impl->federation, *upstreams.federationapi);
    AddPeekRoutes(impl->federation, *upstreams.federationapi);
  }

  const auto& g = config.gateway;
  prometheus::Counter* refused = nullptr;
  prometheus::Counter* accept_failures = nullptr;
  if (registry != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("periscope_gateway_http_connections_refused_total")
                       .Help(
                           "Connections not served: past a connection limit (reason limit), or "
                           "accept() failed, e.g. out of file descriptors (reason accept_failed).")
                       .Register(*registry);
    refused = &family.Add({{"reason", "limit"}});
    accept_failures = &family.Add({{"reason", "accept_failed"}});
  }
  auto listener = [&g, refused, accept_failures](const config::HostPort& where) {
    HttpListenerOptions options{
        .host = where.host,
        .port = where.port,
        .body_limit = g.max_body_bytes,
        .read_timeout_seconds = static_cast<int>(absl::ToInt64Seconds(g.request_read_timeout)),
        .max_connections = g.max_connections,
        .max_connections_per_address = g.max_connections_per_address};
    if (refused != nullptr) {
      options.on_refused = [refused] { refused->Increment(); };
      options.on_accept_failure = [accept_failures] { accept_failures->Increment(); };
    }
    return options;
  };
  absl::StatusOr<int> client_port = impl->http.Listen(listener(g.client_listen), impl->client);
  if (!client_port.ok()) return client_port.status();
  HttpListenerOptions federation_options = listener(g.federation_listen);
  if (!config.federation.plain_http) {
    if (config.federation.tls_certificate.empty() || config.federation.tls_private_key.empty()) {
      return absl::InvalidArgumentError(
          "the federation listener serves TLS: set federation.tls_certificate and "
          "federation.tls_private_key (or federation.plain_http: true behind a proxy that "
          "terminates TLS)");
    }
    federation_options.tls_certificate_path = config.federation.tls_certificate;
    federation_options.tls_private_key_path = config.federation.tls_private_key;
  }
  absl::StatusOr<int> federation_port = impl->http.Listen(federation_options, impl->federation);
  if (!federation_port.ok()) return federation_port.status();
  impl->client_port = *client_port;
  impl->federation_port = *federation_port;
  impl->http.Start();
  logging::Info("gateway.listening",
                {{"client", absl::StrCat(g.client_listen.host, ":", *client_port)},
                 {"federation", absl::StrCat(g.federation_listen.host, ":", *federation_port)},
                 {"federation_tls", config.federation.plain_http ? "off" : "on"}});
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

int Gateway::client_port() const { return impl_->client_port; }
int Gateway::federation_port() const { return impl_->federation_port; }

void Gateway::Stop() {
  if (impl_) impl_->http.Stop();
}

}  // namespace periscope::gateway
