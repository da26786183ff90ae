#include "pkg/crypto/digest.h"

#include <sodium.h>

namespace periscope::crypto {

std::string Sha256(absl::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  std::string raw = Sha256(data);
  std::string hex(raw.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                 raw.size());
  hex.pop_back();  // the terminating NUL
  return hex;
}

}  // namespace periscope::crypto
