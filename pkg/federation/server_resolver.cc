#include "pkg/federation/server_resolver.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace periscope::federation {
namespace {

bool IsIpv4(const std::string& s) {
  in_addr a;
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// The host as it appears in a Host header or server name (IPv6 in brackets).
std::string HostForHeader(const ParsedServerName& name) {
  return name.ip_literal && name.host.find(':') != std::string::npos
             ? absl::StrCat("[", name.host, "]")
             : name.host;
}

}  // namespace

absl::StatusOr<ParsedServerName> ParseServerName(absl::string_view name) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad server name '", name, "': ", why));
  };
  if (name.empty() || name.size() > 255) return bad("length");
  ParsedServerName out;
  absl::string_view rest;
  if (name[0] == '[') {
    size_t close = name.find(']');
    if (close == absl::string_view::npos) return bad("unclosed IPv6 literal");
    out.host = std::string(name.substr(1, close - 1));
    if (!IsIpv6(out.host)) return bad("not an IPv6 address");
    out.ip_literal = true;
    rest = name.substr(close + 1);
  } else {
    size_t colon = name.find(':');
    out.host = std::string(name.substr(0, colon));
    rest = colon == absl::string_view::npos ? absl::string_view() : name.substr(colon);
    if (out.host.empty()) return bad("no host");
    for (char c : out.host) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
        return bad("character not allowed in a hostname");
      }
    }
    out.ip_literal = IsIpv4(out.host);
  }
  if (!rest.empty()) {
    if (rest[0] != ':' || rest.size() < 2 || rest.size() > 6) return bad("bad port");
    for (char c : rest.substr(1)) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad("bad port");
    }
    int port = 0;
    if (!absl::SimpleAtoi(rest.substr(1), &port) || port < 1 || port > 65535) {
      return bad("port out of range");
    }
    out.port = port;
  }
  return out;
}

ServerResolver::ServerResolver(std::map<std::string, std::string> static_servers, SrvResolver& dns,
                               WellKnownFetcher& well_known, const Clock& clock)
    : static_servers_(std::move(static_servers)),
      dns_(dns),
      well_known_(well_known),
      clock_(clock) {}

absl::StatusOr<std::vector<ServerAddress>> ServerResolver::Resolve(absl::string_view server_name) {
  absl::StatusOr<ParsedServerName> name = ParseServerName(server_name);
  if (!name.ok()) return name.status();
  std::string host_header(server_name);
  // The operator's map: connect there, but the identity (Host, certificate) stays the name's.
  if (auto it = static_servers_.find(host_header); it != static_servers_.end()) {
    absl::StatusOr<ParsedServerName> to = ParseServerName(it->second);
    if (!to.ok() || to->port == 0) {
      return absl::FailedPreconditionError(absl::StrCat("federation.servers maps ", server_name,
                                                        " to '", it->second, "', not host:port"));
    }
    return std::vector<ServerAddress>{{to->host, to->port, host_header, name->host, true}};
  }
  // 1 and 2: an IP literal, or an explicit port: no delegation.
  if (name->ip_literal || name->port != 0) {
    return std::vector<ServerAddress>{
        {name->host, name->port != 0 ? name->port : 8448, host_header, name->host}};
  }
  // 3: delegation through /.well-known/matrix/server.
  if (std::optional<std::string> delegated = WellKnown(name->host)) {
    ParsedServerName to = *ParseServerName(*delegated);  // validated in WellKnown
    std::string delegated_header = *delegated;
    if (to.ip_literal || to.port != 0) {
      return std::vector<ServerAddress>{
          {to.host, to.port != 0 ? to.port : 8448, delegated_header, to.host}};
    }
    return ViaSrvOr8448(to.host, HostForHeader(to));
  }
  // 4-6: SRV on the name itself, else 8448.
  return ViaSrvOr8448(name->host, host_header);
}

absl::StatusOr<std::vector<ServerAddress>> ServerResolver::ViaSrvOr8448(
    const std::string& hostname, const std::string& host_header) {
  absl::StatusOr<std::vector<SrvRecord>> records = Srv(hostname);
  if (!records.ok()) return records.status();
  std::vector<ServerAddress> out;
  // SRV changes where to connect, never the Host header or the certificate's name.
  for (const SrvRecord& r : *records) {
    out.push_back({r.target, r.port, host_header, hostname});
  }
  if (out.empty()) out.push_back({hostname, 8448, host_header, hostname});
  return out;
}

std::optional<std::string> ServerResolver::WellKnown(const std::string& hostname) {
  absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    if (auto it = well_known_cache_.find(hostname);
        it != well_known_cache_.end() && it->second.expires > now) {
      return it->second.server;
    }
  }
  absl::StatusOr<WellKnownAnswer> answer = well_known_.Fetch(hostname);
  CachedWellKnown entry{std::nullopt, now + kWellKnownFailureTtl};
  if (!answer.ok()) {
    absl::MutexLock lock(&mu_);
    if (auto it = well_known_cache_.find(hostname);
        it != well_known_cache_.end() && it->second.server) {
      it->second.expires = now + kWellKnownRetryAfter;
      return it->second.server;
    }
  }
  if (answer.ok() && answer->server) {
    // An m.server that is not a server name ("https://x", a path) is as good as none.
    if (ParseServerName(*answer->server).ok()) {
      entry.server = answer->server;
      absl::Duration ttl = answer->max_age.value_or(kWellKnownDefaultTtl);
      entry.expires = now + std::clamp(ttl, kWellKnownMinTtl, kWellKnownMaxTtl);
    }
  }
  absl::MutexLock lock(&mu_);
  well_known_cache_[hostname] = entry;
  return entry.server;
}

absl::StatusOr<std::vector<SrvRecord>> ServerResolver::Srv(const std::string& hostname) {
  absl::Time now = clock_.Now();
  auto no_service = [&] {
    return absl::UnavailableError(
        absl::StrCat(hostname, " says (SRV target \".\") it offers no federation"));
  };
  {
    absl::MutexLock lock(&mu_);
    if (auto it = srv_cache_.find(hostname); it != srv_cache_.end() && it->second.expires > now) {
      if (it->second.no_service) return no_service();
      return it->second.records;
    }
  }
  std::vector<SrvRecord> records;
  bool dot_only = false;
  for (const char* service : {"_matrix-fed._tcp.", "_matrix._tcp."}) {
    absl::StatusOr<std::vector<SrvRecord>> found = dns_.LookupSrv(absl::StrCat(service, hostname));
    if (!found.ok() || found->empty()) continue;
    dot_only = found->size() == 1 && absl::StripSuffix((*found)[0].target, ".").empty();
    for (SrvRecord& r : *found) {
      // A single "." target means "no service here" (RFC 2782).
      std::string target(absl::StripSuffix(r.target, "."));
      if (target.empty() || r.port <= 0) continue;
      r.target = std::move(target);
      records.push_back(std::move(r));
    }
    break;  // _matrix._tcp only when _matrix-fed._tcp has no records
  }
  // Lowest priority first; within one, the heavier first (deterministic rather than weighted
  // random: with one sender per destination there is no load to spread).
  std::stable_sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
  });
  absl::MutexLock lock(&mu_);
  srv_cache_[hostname] = {records, dot_only, now + kSrvTtl};
  if (dot_only) return no_service();
  return records;
}

}  // namespace periscope::federation
