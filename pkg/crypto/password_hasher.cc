#include "pkg/crypto/password_hasher.h"

#include <sodium.h>

#include <algorithm>
#include <thread>

#include "absl/status/status.h"

namespace periscope::crypto {

PasswordHasher::PasswordHasher(uint64_t ops_limit, uint64_t mem_limit_kib,
                               PasswordHasherLimits limits)
    : ops_limit_(ops_limit),
      mem_limit_bytes_(mem_limit_kib * 1024),
      max_concurrent_(limits.max_concurrent > 0
                          ? limits.max_concurrent
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()))),
      limits_(limits) {
  absl::StatusOr<std::string> dummy = Hash("periscope-dummy-password");
  if (dummy.ok()) dummy_hash_ = *dummy;
}

absl::Status PasswordHasher::Acquire() const {
  absl::MutexLock lock(&mu_);
  if (running_ < max_concurrent_) {
    ++running_;
    return absl::OkStatus();
  }
  if (waiting_ >= limits_.max_waiting) {
    return absl::ResourceExhaustedError("too many password checks at once; retry shortly");
  }
  ++waiting_;
  auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ < max_concurrent_; };
  const bool got = mu_.AwaitWithTimeout(absl::Condition(&free), limits_.max_wait);
  --waiting_;
  if (!got) return absl::ResourceExhaustedError("password checks are backed up; retry shortly");
  ++running_;
  return absl::OkStatus();
}

void PasswordHasher::Release() const {
  absl::MutexLock lock(&mu_);
  --running_;
}

int PasswordHasher::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

absl::StatusOr<std::string> PasswordHasher::Hash(absl::string_view password) const {
  if (absl::Status s = Acquire(); !s.ok()) return s;
  char out[crypto_pwhash_STRBYTES];
  const int failed =
      crypto_pwhash_str_alg(out, password.data(), password.size(), ops_limit_,
                            static_cast<size_t>(mem_limit_bytes_), crypto_pwhash_ALG_ARGON2ID13);
  Release();
  if (failed != 0) return absl::ResourceExhaustedError("password hashing ran out of memory");
  return std::string(out);
}

absl::StatusOr<bool> PasswordHasher::Verify(absl::string_view hash,
                                            absl::string_view password) const {
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string terminated(hash);  // crypto_pwhash_str_verify wants a NUL-terminated string
  if (absl::Status s = Acquire(); !s.ok()) return s;
  const bool match =
      crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
  Release();
  return match;
}

absl::Status PasswordHasher::VerifyDummy(absl::string_view password) const {
  return Verify(dummy_hash_, password).status();
}

}  // namespace periscope::crypto
