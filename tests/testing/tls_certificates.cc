#include "tests/testing/tls_certificates.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace periscope::testing {

absl::StatusOr<TlsCertificate> MakeSelfSignedCertificate(
    const std::string& directory, const std::string& file_stem,
    const std::vector<std::string>& dns_names) {
  if (dns_names.empty()) return absl::InvalidArgumentError("a certificate needs a name");
  std::vector<std::string> alt_names;
  for (const std::string& name : dns_names) {
    in6_addr v6;
    in_addr v4;
    bool ip =
        inet_pton(AF_INET, name.c_str(), &v4) == 1 || inet_pton(AF_INET6, name.c_str(), &v6) == 1;
    alt_names.push_back(absl::StrCat(ip ? "IP:" : "DNS:", name));
  }
  TlsCertificate cert{absl::StrCat(directory, "/", file_stem, ".crt"),
                      absl::StrCat(directory, "/", file_stem, ".key")};
  std::string command = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
      "'/CN=",
      dns_names[0], "' -addext 'subjectAltName=", absl::StrJoin(alt_names, ","),
      "' -addext 'basicConstraints=critical,CA:TRUE' -keyout '", cert.private_key_path, "' -out '",
      cert.certificate_path, "' >/dev/null 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("openssl failed: ", command));
  }
  return cert;
}

absl::Status WriteCaBundle(const std::string& path, const std::vector<TlsCertificate>& certs) {
  std::ofstream out(path, std::ios::trunc);
  for (const TlsCertificate& cert : certs) {
    std::ifstream in(cert.certificate_path);
    std::stringstream text;
    text << in.rdbuf();
    out << text.str();
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace periscope::testing
