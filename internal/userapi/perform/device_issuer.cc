#include "internal/userapi/perform/device_issuer.h"

#include "pkg/crypto/digest.h"
#include "pkg/crypto/random.h"
#include "pkg/matrix/base64.h"

namespace periscope::userapi {
namespace {
// Prefix makes tokens recognisable in logs and secret scanners.
constexpr absl::string_view kTokenPrefix = "psc_";
constexpr absl::string_view kDeviceIdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
}  // namespace

IssuedDevice IssueDevice(const std::string& device_id, const std::string& display_name) {
  IssuedDevice d;
  d.access_token = std::string(kTokenPrefix) + matrix::EncodeBase64Url(crypto::RandomBytes(32));
  d.stored.device_id = device_id.empty() ? crypto::RandomString(10, kDeviceIdAlphabet) : device_id;
  d.stored.display_name = display_name;
  d.stored.token_sha256 = HashAccessToken(d.access_token);
  return d;
}

std::string HashAccessToken(absl::string_view access_token) {
  return crypto::Sha256Hex(access_token);
}

}  // namespace periscope::userapi
