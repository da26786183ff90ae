#include "pkg/matrix/server_acl.h"

#include <arpa/inet.h>

#include "absl/strings/ascii.h"

namespace periscope::matrix {
namespace {

// The server name without its port (an IPv6 literal keeps its brackets).
std::string HostOf(absl::string_view server_name) {
  if (!server_name.empty() && server_name[0] == '[') {
    size_t close = server_name.find(']');
    return std::string(
        server_name.substr(0, close == absl::string_view::npos ? server_name.size() : close + 1));
  }
  return std::string(server_name.substr(0, server_name.find(':')));
}

bool IsIpLiteral(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1;
  }
  return false;
}

bool MatchesAny(const Json& list, const std::string& host) {
  if (!list.is_array()) return false;
  for (const auto& glob : list) {
    if (glob.is_string() && GlobMatches(glob.get_ref<const std::string&>(), host)) return true;
  }
  return false;
}

}  // namespace

bool GlobMatches(absl::string_view glob, absl::string_view text) {
  // Iterative matching with backtracking to the last '*': linear in practice, never exponential.
  size_t g = 0, t = 0, star = absl::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (g < glob.size() &&
        (glob[g] == '?' || absl::ascii_tolower(static_cast<unsigned char>(glob[g])) ==
                               absl::ascii_tolower(static_cast<unsigned char>(text[t])))) {
      ++g;
      ++t;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = t;
    } else if (star != absl::string_view::npos) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

bool ServerAllowedByAcl(const Json& acl_content, absl::string_view server_name) {
  if (!acl_content.is_object()) return true;
  std::string host = HostOf(server_name);
  auto ip = acl_content.find("allow_ip_literals");
  // Missing, or not a boolean: true.
  bool allow_ip = ip == acl_content.end() || !ip->is_boolean() || ip->get<bool>();
  if (!allow_ip && IsIpLiteral(host)) return false;
  auto deny = acl_content.find("deny");
  if (deny != acl_content.end() && MatchesAny(*deny, host)) return false;
  auto allow = acl_content.find("allow");
  return allow != acl_content.end() && MatchesAny(*allow, host);
}

}  // namespace periscope::matrix
