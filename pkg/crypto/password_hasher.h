#pragma once
// Password hashing with argon2id (libsodium's crypto_pwhash_str), producing self-describing
// "$argon2id$v=19$m=...,t=...,p=1$salt$hash" strings, so that a change of cost applies to new
// hashes while old ones still verify.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace periscope::crypto {

// Each hash or verification takes `mem_limit_kib` of memory for its duration, so they run on a
// bounded number of slots: a burst of logins waits (a bounded queue, a bounded time) instead of
// taking memory without end, and past that is refused with RESOURCE_EXHAUSTED (the gateway's 429
// M_LIMIT_EXCEEDED).
struct PasswordHasherLimits {
  // Hashes at once (0: one per CPU).
  int max_concurrent = 0;
  // Callers waiting for a slot at most; more are refused at once.
  int max_waiting = 64;
  // How long a caller waits for a slot before it is refused.
  absl::Duration max_wait = absl::Seconds(10);
};

class PasswordHasher {
 public:
  // `ops_limit` passes over `mem_limit_kib` KiB of memory.
  PasswordHasher(uint64_t ops_limit, uint64_t mem_limit_kib, PasswordHasherLimits limits = {});

  absl::StatusOr<std::string> Hash(absl::string_view password) const;

  // True if `password` matches `hash` (false for a malformed hash).
  absl::StatusOr<bool> Verify(absl::string_view hash, absl::string_view password) const;

  // Burns the same time as a Verify against a real hash, so that "no such user" and "wrong
  // password" cannot be told apart by timing.
  absl::Status VerifyDummy(absl::string_view password) const;

  // Hashes running now.
  int running() const;

 private:
  // Takes a slot, waiting if allowed; RESOURCE_EXHAUSTED if none comes.
  absl::Status Acquire() const;
  void Release() const;

  uint64_t ops_limit_;
  uint64_t mem_limit_bytes_;
  int max_concurrent_;
  PasswordHasherLimits limits_;
  std::string dummy_hash_;
  mutable absl::Mutex mu_;
  mutable int running_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace periscope::crypto
