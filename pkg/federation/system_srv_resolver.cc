// SRV lookups with the C library's resolver (res_nquery), which honours /etc/resolv.conf.

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "pkg/federation/server_resolver.h"

namespace periscope::federation {
namespace {

class SystemSrvResolver final : public SrvResolver {
 public:
  absl::StatusOr<std::vector<SrvRecord>> LookupSrv(const std::string& name) override {
    struct __res_state state;
    std::memset(&state, 0, sizeof(state));
    if (res_ninit(&state) != 0) return absl::UnavailableError("cannot initialise the resolver");
    unsigned char answer[8192];
    int length = res_nquery(&state, name.c_str(), ns_c_in, ns_t_srv, answer, sizeof(answer));
    res_nclose(&state);
    if (length < 0) return absl::NotFoundError(absl::StrCat("no SRV records for ", name));
    // An answer larger than the buffer is truncated, but its full length is returned.
    if (length > static_cast<int>(sizeof(answer))) length = sizeof(answer);
    ns_msg message;
    if (ns_initparse(answer, length, &message) != 0) {
      return absl::UnavailableError(absl::StrCat("bad DNS answer for ", name));
    }
    std::vector<SrvRecord> out;
    for (int i = 0; i < ns_msg_count(message, ns_s_an); ++i) {
      ns_rr rr;
      if (ns_parserr(&message, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_srv ||
          ns_rr_rdlen(rr) < 7) {
        continue;
      }
      const unsigned char* rdata = ns_rr_rdata(rr);
      SrvRecord record;
      record.priority = ns_get16(rdata);
      record.weight = ns_get16(rdata + 2);
      record.port = ns_get16(rdata + 4);
      char target[NS_MAXDNAME];
      if (ns_name_uncompress(ns_msg_base(message), ns_msg_end(message), rdata + 6, target,
                             sizeof(target)) < 0) {
        continue;
      }
      record.target = target;
      out.push_back(std::move(record));
    }
    if (out.empty()) return absl::NotFoundError(absl::StrCat("no SRV records for ", name));
    return out;
  }
};

}  // namespace

std::unique_ptr<SrvResolver> MakeSystemSrvResolver() {
  return std::make_unique<SystemSrvResolver>();
}

}  // namespace periscope::federation
