#include "pkg/config/config.h"

#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "yaml-cpp/yaml.h"

extern char** environ;

namespace periscope::config {
namespace {

constexpr absl::string_view kEnvPrefix = "PERISCOPE_";
// Environment variables with the prefix that are not configuration keys.
const std::set<std::string, std::less<>> kNonConfigEnv = {"PERISCOPE_CONFIG"};

// Walks one YAML mapping, remembering which keys were read so that unknown keys (typos) are
// reported instead of silently ignored.
class Section {
 public:
  Section(YAML::Node node, std::string path, std::vector<std::string>* errors)
      : node_(std::move(node)), path_(std::move(path)), errors_(errors) {
    // (copy and move are deleted below: each Section reports its unknown keys exactly once)
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      Fail(path_.empty() ? "(top level)" : path_, Describe(node_), "a mapping");
    }
  }
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;
  ~Section() {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      std::string key = kv.first.as<std::string>("");
      if (!seen_.contains(key)) {
        errors_->push_back(absl::StrCat(Key(key), ": unknown key"));
      }
    }
  }

  Section Child(absl::string_view key) { return Section(Get(key), Key(key), errors_); }

  void String(absl::string_view key, std::string* out, bool required = false) {
    YAML::Node v = Get(key);
    if (!v || v.IsNull()) {
      if (required && out->empty()) Fail(Key(key), "nothing", "a non-empty string");
      return;
    }
    if (!v.IsScalar()) return Fail(Key(key), Describe(v), "a string");
    *out = v.Scalar();
    if (required && out->empty()) Fail(Key(key), "\"\"", "a non-empty string");
  }

  template <typename T>
  void Integer(absl::string_view key, T* out, int64_t min, int64_t max) {
    YAML::Node v = Get(key);
    if (!v || v.IsNull()) return;
    int64_t parsed = 0;
    if (!v.IsScalar() || !absl::SimpleAtoi(v.Scalar(), &parsed) || parsed < min || parsed > max) {
      return Fail(Key(key), Describe(v), absl::StrCat("an integer from ", min, " to ", max));
    }
    *out = static_cast<T>(parsed);
  }

  void Bool(absl::string_view key, bool* out) {
    YAML::Node v = Get(key);
    if (!v || v.IsNull()) return;
    std::string s = v.IsScalar() ? absl::AsciiStrToLower(v.Scalar()) : "";
    if (s == "true" || s == "yes" || s == "on" || s == "1") {
      *out = true;
    } else if (s == "false" || s == "no" || s == "off" || s == "0") {
      *out = false;
    } else {
      Fail(Key(key), Describe(v), "true or false");
    }
  }

  void Duration(absl::string_view key, absl::Duration* out, absl::Duration min) {
    YAML::Node v = Get(key);
    if (!v || v.IsNull()) return;
    absl::Duration d;
    if (!v.IsScalar() || !absl::ParseDuration(v.Scalar(), &d) || d < min) {
      return Fail(Key(key), Describe(v),
                  absl::StrCat("a duration such as \"30s\", \"500ms\" or \"1h\", at least ",
                               absl::FormatDuration(min)));
    }
    *out = d;
  }

  void Address(absl::string_view key, HostPort* out) {
    YAML::Node v = Get(key);
    if (!v || v.IsNull()) return;
    std::string s = v.IsScalar() ? v.Scalar() : "";
    size_t colon = s.rfind(':');
    int port = -1;
    if (colon != std::string::npos && colon > 0 && absl::SimpleAtoi(s.substr(colon + 1), &port) &&
        port >= 0 && port <= 65535) {
      out->host = s.substr(0, colon);
      out->port = port;
      return;
    }
    Fail(Key(key), Describe(v), "host:port with a port from 0 to 65535, e.g. 127.0.0.1:7070");
  }

  // A mapping of strings to strings.
  void StringMap(absl::string_view key, std::map<std::string, std::string>* out) {
    YAML::Node v = Get(key);
    if (!v || v.IsNull()) return;
    if (!v.IsMap()) return Fail(Key(key), Describe(v), "a mapping of names to strings");
    out->clear();
    for (const auto& kv : v) {
      if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
        Fail(absl::StrCat(Key(key), ".", kv.first.as<std::string>("")), Describe(kv.second),
             "a non-empty string");
        continue;
      }
      (*out)[kv.first.as<std::string>("")] = kv.second.Scalar();
    }
  }

  // A list of strings.
  void StringList(absl::string_view key, std::vector<std::string>* out) {
    YAML::Node v = Get(key);
    if (!v || v.IsNull()) return;
    if (!v.IsSequence()) return Fail(Key(key), Describe(v), "a list of strings");
    out->clear();
    for (const auto& item : v) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        Fail(Key(key), Describe(item), "a non-empty string in the list");
        continue;
      }
      out->push_back(item.Scalar());
    }
  }

  template <typename T, typename Parse>
  void Enum(absl::string_view key, T* out, Parse parse) {
    YAML::Node v = Get(key);
    if (!v || v.IsNull()) return;
    absl::StatusOr<T> parsed =
        v.IsScalar() ? parse(v.Scalar()) : absl::InvalidArgumentError("expected a string");
    if (!parsed.ok()) return Fail(Key(key), Describe(v), std::string(parsed.status().message()));
    *out = *parsed;
  }

  void Fail(absl::string_view key, absl::string_view found, absl::string_view expected) {
    errors_->push_back(absl::StrCat(key, ": got ", found, ", expected ", expected));
  }

 private:
  YAML::Node Get(absl::string_view key) {
    seen_.insert(std::string(key));
    if (!node_ || !node_.IsMap()) return YAML::Node();
    return node_[std::string(key)];
  }
  std::string Key(absl::string_view key) const {
    return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
  }
  static std::string Describe(const YAML::Node& v) {
    if (v.IsScalar()) return absl::StrCat("\"", v.Scalar(), "\"");
    if (v.IsSequence()) return "a list";
    if (v.IsMap()) return "a mapping";
    return "nothing";
  }

  YAML::Node node_;
  std::string path_;
  std::vector<std::string>* errors_;
  std::set<std::string> seen_;
};

void ReadComponent(Section&& s, ComponentConfig* c) {
  s.Address("grpc_listen", &c->grpc_listen);
  s.Address("metrics_listen", &c->metrics_listen);
  s.String("address", &c->address);
  if (c->address.empty()) c->address = c->grpc_listen.ToString();
}

ComponentConfig DefaultComponent(int grpc_port, int metrics_port) {
  ComponentConfig c;
  c.grpc_listen = {"127.0.0.1", grpc_port};
  c.metrics_listen = {"127.0.0.1", metrics_port};
  return c;
}

// Applies PERISCOPE_A__B=value as root[a][b] = value. Returns errors for unusable names.
void ApplyEnvironment(YAML::Node& root, const Environment& env, std::vector<std::string>* errors) {
  for (const auto& [name, value] : env) {
    if (!absl::StartsWith(name, kEnvPrefix) || kNonConfigEnv.contains(name)) continue;
    std::vector<std::string> path =
        absl::StrSplit(absl::AsciiStrToLower(name.substr(kEnvPrefix.size())), "__");
    YAML::Node node = root;
    bool ok = true;
    for (size_t i = 0; i < path.size() && ok; ++i) {
      if (path[i].empty()) {
        errors->push_back(absl::StrCat(name, ": malformed variable name"));
        ok = false;
      } else if (i + 1 == path.size()) {
        node[path[i]] = value;
      } else {
        YAML::Node child = node[path[i]];
        if (child && !child.IsNull() && !child.IsMap()) {
          errors->push_back(absl::StrCat(name, ": ",
                                         absl::StrJoin(path.begin(), path.begin() + i + 1, "."),
                                         " is not a mapping"));
          ok = false;
        } else {
          if (!child || child.IsNull()) node[path[i]] = YAML::Node(YAML::NodeType::Map);
          node.reset(node[path[i]]);
        }
      }
    }
  }
}

}  // namespace

std::string HostPort::ToString() const { return absl::StrCat(host, ":", port); }

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

absl::StatusOr<Config> ParseConfig(absl::string_view yaml_text, const Environment& env,
                                   absl::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not valid YAML: ", e.what()));
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);

  std::vector<std::string> errors;
  ApplyEnvironment(root, env, &errors);

  Config c;
  c.monolith.grpc_listen = {"127.0.0.1", 7070};
  c.monolith.metrics_listen = {"127.0.0.1", 9464};
  c.gateway.client_listen = {"127.0.0.1", 8008};
  c.gateway.federation_listen = {"127.0.0.1", 8448};
  c.gateway.metrics_listen = {"127.0.0.1", 9470};
  static_cast<ComponentConfig&>(c.userapi) = DefaultComponent(7071, 9465);
  c.roomserver = DefaultComponent(7072, 9466);
  c.syncapi = DefaultComponent(7073, 9467);
  c.federationapi = DefaultComponent(7074, 9468);
  c.federationsender = DefaultComponent(7075, 9469);

  {
    Section top(root, "", &errors);
    top.String("server_name", &c.server_name, /*required=*/true);
    top.String("signing_key_path", &c.signing_key_path, /*required=*/true);
    {
      Section s = top.Child("database");
      s.String("dsn", &c.database.dsn, /*required=*/true);
      s.Integer("max_connections", &c.database.max_connections, 1, 1000);
      s.Duration("acquire_timeout", &c.database.acquire_timeout, absl::Milliseconds(1));
      s.Duration("connect_timeout", &c.database.connect_timeout, absl::Seconds(1));
      s.Duration("statement_timeout", &c.database.statement_timeout, absl::Milliseconds(1));
    }
    {
      Section s = top.Child("nats");
      s.String("url", &c.nats.url, /*required=*/true);
      s.String("stream_prefix", &c.nats.stream_prefix, /*required=*/true);
      s.Integer("replicas", &c.nats.replicas, 1, 5);
      s.Duration("output_max_age", &c.nats.output_max_age, absl::Hours(1));
      s.Integer("output_max_bytes", &c.nats.output_max_bytes, 0, int64_t{1} << 50);
    }
    {
      Section s = top.Child("logging");
      s.Enum("level", &c.logging.level, logging::ParseLevel);
      s.Enum("format", &c.logging.format, logging::ParseFormat);
    }
    {
      Section s = top.Child("monolith");
      s.Address("grpc_listen", &c.monolith.grpc_listen);
      s.Address("metrics_listen", &c.monolith.metrics_listen);
    }
    {
      Section s = top.Child("gateway");
      s.Address("client_listen", &c.gateway.client_listen);
      s.Address("federation_listen", &c.gateway.federation_listen);
      s.Address("metrics_listen", &c.gateway.metrics_listen);
      s.Integer("max_body_bytes", &c.gateway.max_body_bytes, 1024, int64_t{1} << 30);
      s.Duration("token_cache_ttl", &c.gateway.token_cache_ttl, absl::ZeroDuration());
      s.Duration("upstream_timeout", &c.gateway.upstream_timeout, absl::Milliseconds(10));
      s.Integer("io_threads", &c.gateway.io_threads, 1, 64);
      s.Duration("request_read_timeout", &c.gateway.request_read_timeout, absl::Seconds(1));
      s.Integer("max_connections", &c.gateway.max_connections, 0, 10'000'000);
      s.Integer("max_connections_per_address", &c.gateway.max_connections_per_address, 0,
                10'000'000);
      s.Integer("auth_rate_limit_burst", &c.gateway.auth_rate_limit_burst, 1, 1'000'000);
      s.Integer("auth_rate_limit_per_minute", &c.gateway.auth_rate_limit_per_minute, 1, 60'000'000);
    }
    {
      Section s = top.Child("peeking");
      s.Duration("local_peek_lifetime", &c.peeking.local_peek_lifetime, absl::Seconds(1));
      s.Integer("rate_limit_burst", &c.peeking.rate_limit_burst, 1, 100000);
      s.Integer("rate_limit_per_second", &c.peeking.rate_limit_per_second, 1, 100000);
      s.Duration("federation_renewal_interval", &c.peeking.federation_renewal_interval,
                 absl::Seconds(1));
      s.Integer("max_inbound_peeks_per_server", &c.peeking.max_inbound_peeks_per_server, 1,
                1000000);
      s.Integer("inbound_rate_limit_burst", &c.peeking.inbound_rate_limit_burst, 1, 100000);
      s.Integer("inbound_rate_limit_per_second", &c.peeking.inbound_rate_limit_per_second, 1,
                100000);
    }
    {
      Section s = top.Child("federation");
      s.String("tls_certificate", &c.federation.tls_certificate);
      s.String("tls_private_key", &c.federation.tls_private_key);
      s.Bool("plain_http", &c.federation.plain_http);
      s.String("tls_verify", &c.federation.tls_verify);
      s.StringMap("servers", &c.federation.servers);
      s.Bool("allow_private_addresses", &c.federation.allow_private_addresses);
      s.StringList("trusted_key_servers", &c.federation.trusted_key_servers);
      s.Duration("key_validity", &c.federation.key_validity, absl::Hours(1));
      s.Duration("request_timeout", &c.federation.request_timeout, absl::Seconds(1));
      if (absl::string_view v = c.federation.tls_verify; v.empty()) {
        s.Fail("federation.tls_verify", "\"\"", "true, false or the path of a CA bundle");
      }
    }
    {
      Section s = top.Child("userapi");
      s.Bool("registration_enabled", &c.userapi.registration_enabled);
      {
        Section p = s.Child("password_hash");
        // libsodium's argon2id minimums: 1 pass, 8 KiB.
        p.Integer("ops_limit", &c.userapi.password_hash.ops_limit, 1, 100);
        p.Integer("mem_limit_kib", &c.userapi.password_hash.mem_limit_kib, 8, 4 << 20);
        p.Integer("max_concurrent", &c.userapi.password_hash.max_concurrent, 0, 1024);
        p.Integer("max_waiting", &c.userapi.password_hash.max_waiting, 0, 100000);
      }
      ReadComponent(std::move(s), &c.userapi);
    }
    ReadComponent(top.Child("roomserver"), &c.roomserver);
    ReadComponent(top.Child("syncapi"), &c.syncapi);
    ReadComponent(top.Child("federationapi"), &c.federationapi);
    ReadComponent(top.Child("federationsender"), &c.federationsender);
  }  // Section destructors report unknown keys here.

  if (!errors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": invalid configuration:\n  ", absl::StrJoin(errors, "\n  ")));
  }
  return c;
}

absl::StatusOr<Config> LoadConfig(const std::string& path, const Environment& env) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the configuration file"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), env, path);
}

}  // namespace periscope::config
