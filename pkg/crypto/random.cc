#include "pkg/crypto/random.h"

#include <sodium.h>

namespace periscope::crypto {

bool InitSodium() { return sodium_init() >= 0; }

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string RandomString(size_t n, absl::string_view alphabet) {
  std::string out(n, '\0');
  for (char& c : out) {
    c = alphabet[randombytes_uniform(static_cast<uint32_t>(alphabet.size()))];
  }
  return out;
}

}  // namespace periscope::crypto
