#include "pkg/crypto/password_hasher.h"

#include <sodium.h>

#include "absl/status/status.h"

namespace periscope::crypto {

PasswordHasher::PasswordHasher(uint64_t ops_limit, uint64_t mem_limit_kib)
    : ops_limit_(ops_limit), mem_limit_bytes_(mem_limit_kib * 1024) {
  absl::StatusOr<std::string> dummy = Hash("periscope-dummy-password");
  if (dummy.ok()) dummy_hash_ = *dummy;
}

absl::StatusOr<std::string> PasswordHasher::Hash(absl::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops_limit_,
                            static_cast<size_t>(mem_limit_bytes_),
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("password hashing ran out of memory");
  }
  return std::string(out);
}

bool PasswordHasher::Verify(absl::string_view hash, absl::string_view password) const {
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string terminated(hash);  // crypto_pwhash_str_verify wants a NUL-terminated string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

void PasswordHasher::VerifyDummy(absl::string_view password) const {
  (void)Verify(dummy_hash_, password);
}

}  // namespace periscope::crypto
