#pragma once
// Self-signed TLS certificates for tests, made with the openssl command line (Debian's `openssl`
// package, which scripts/lib installs): each is its own CA, so a test can trust exactly the
// certificates it made (federation.tls_verify: <ca file>) and have names checked for real.

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace periscope::testing {

struct TlsCertificate {
  std::string certificate_path;  // PEM
  std::string private_key_path;  // PEM
};

// A certificate for `dns_names` (subjectAltName DNS entries; an entry that is an IP address
// becomes an IP entry), valid for a day, written under `directory`.
absl::StatusOr<TlsCertificate> MakeSelfSignedCertificate(const std::string& directory,
                                                         const std::string& file_stem,
                                                         const std::vector<std::string>& dns_names);

// Concatenates certificates into one CA bundle file at `path`.
absl::Status WriteCaBundle(const std::string& path, const std::vector<TlsCertificate>& certs);

}  // namespace periscope::testing
