#pragma once
// Server name resolution (server-server spec "Resolving server names"): which host and port to
// connect to for a server name, which Host header to send, and which name its certificate must
// be valid for. The operator's static map (federation.servers) is consulted first; then an IP
// literal, an explicit port, /.well-known/matrix/server delegation, SRV _matrix-fed._tcp and
// (deprecated) _matrix._tcp, and finally port 8448. Delegation never changes the server's
// identity: requests are still signed for the original name.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pkg/clock/clock.h"

namespace periscope::federation {

// Where a request for a server name goes.
struct ServerAddress {
  std::string host;  // DNS name or IP literal (IPv6 without brackets)
  int port = 8448;
  std::string host_header;
  std::string tls_name;  // the name the certificate must be valid for
  // The operator named this address (federation.servers): it may be a private one.
  bool operator_configured = false;
  bool operator==(const ServerAddress&) const = default;
};

// A server name split into its parts: hostname (IPv6 without brackets) and port (0: none).
struct ParsedServerName {
  std::string host;
  int port = 0;
  bool ip_literal = false;
};
// INVALID_ARGUMENT unless `name` is `hostname [":" port]` per the spec's grammar.
absl::StatusOr<ParsedServerName> ParseServerName(absl::string_view name);

struct SrvRecord {
  std::string target;
  int port = 0;
  int priority = 0;
  int weight = 0;
};

// DNS SRV lookups. NOT_FOUND when the name has no SRV records.
class SrvResolver {
 public:
  virtual ~SrvResolver() = default;
  virtual absl::StatusOr<std::vector<SrvRecord>> LookupSrv(const std::string& name) = 0;
};

// The system resolver (res_nquery); blocking.
std::unique_ptr<SrvResolver> MakeSystemSrvResolver();

// GET https://<hostname>/.well-known/matrix/server. `server` is the m.server value when the
// answer was a valid one, nullopt when it was not (non-200, bad JSON, no m.server); an error
// status for a transport failure. `max_age` is what the answer's caching headers asked for.
struct WellKnownAnswer {
  std::optional<std::string> server;
  std::optional<absl::Duration> max_age;
};
class WellKnownFetcher {
 public:
  virtual ~WellKnownFetcher() = default;
  virtual absl::StatusOr<WellKnownAnswer> Fetch(const std::string& hostname) = 0;
};

class ServerResolver {
 public:
  // `static_servers`: server name -> "host:port" (federation.servers), used instead of discovery.
  ServerResolver(std::map<std::string, std::string> static_servers, SrvResolver& dns,
                 WellKnownFetcher& well_known, const Clock& clock);

  // The addresses to try, in order (several when SRV lists several targets). UNAVAILABLE when
  // the server says it offers no federation (a single SRV target ".").
  absl::StatusOr<std::vector<ServerAddress>> Resolve(absl::string_view server_name);

  // Well-known answers are cached per their headers, clamped to [5 min, 48 h] (24 h without
  // headers); failures for 1 h. A transport failure (not an invalid answer) while a good answer
  // is cached keeps that answer for kWellKnownRetryAfter more (Synapse does the same): a blip
  // must not send traffic to the wrong host for an hour.
  static constexpr absl::Duration kWellKnownDefaultTtl = absl::Hours(24);
  static constexpr absl::Duration kWellKnownMinTtl = absl::Minutes(5);
  static constexpr absl::Duration kWellKnownMaxTtl = absl::Hours(48);
  static constexpr absl::Duration kWellKnownFailureTtl = absl::Hours(1);
  static constexpr absl::Duration kWellKnownRetryAfter = absl::Minutes(2);
  // SRV answers are cached this long.
  static constexpr absl::Duration kSrvTtl = absl::Minutes(5);

 private:
  std::optional<std::string> WellKnown(const std::string& hostname);
  // The SRV records of `hostname` (empty: none), or UNAVAILABLE for "no service here".
  absl::StatusOr<std::vector<SrvRecord>> Srv(const std::string& hostname);
  absl::StatusOr<std::vector<ServerAddress>> ViaSrvOr8448(const std::string& hostname,
                                                          const std::string& host_header);

  std::map<std::string, std::string> static_servers_;
  SrvResolver& dns_;
  WellKnownFetcher& well_known_;
  const Clock& clock_;

  struct CachedWellKnown {
    std::optional<std::string> server;
    absl::Time expires;
  };
  struct CachedSrv {
    std::vector<SrvRecord> records;
    bool no_service = false;
    absl::Time expires;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, CachedWellKnown> well_known_cache_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, CachedSrv> srv_cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::federation
