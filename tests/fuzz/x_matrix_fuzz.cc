// X-Matrix Authorization header parsing on arbitrary bytes: never crash; what parses has every
// required field, and verifying it against a key fails cleanly rather than crashing.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pkg/matrix/x_matrix.h"

using periscope::matrix::ParseXMatrixAuthorization;
using periscope::matrix::VerifyXMatrix;
using periscope::matrix::XMatrixAuthorization;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view header(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<XMatrixAuthorization> auth = ParseXMatrixAuthorization(header);
  if (!auth.ok()) return 0;
  if (auth->origin.empty() || auth->key_id.empty() || auth->signature.empty()) abort();
  const std::string public_key(32, '\x01');
  absl::Status verified = VerifyXMatrix(*auth, "GET", "/_matrix/federation/v1/version",
                                        std::nullopt, "periscope.test", public_key);
  (void)verified;
  return 0;
}
