#pragma once
// Password hashing with argon2id (libsodium's crypto_pwhash_str), producing self-describing
// "$argon2id$v=19$m=...,t=...,p=1$salt$hash" strings, so that a change of cost applies to new
// hashes while old ones still verify.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope::crypto {

class PasswordHasher {
 public:
  // `ops_limit` passes over `mem_limit_kib` KiB of memory.
  PasswordHasher(uint64_t ops_limit, uint64_t mem_limit_kib);

  absl::StatusOr<std::string> Hash(absl::string_view password) const;

  // True if `password` matches `hash` (false for a malformed hash).
  bool Verify(absl::string_view hash, absl::string_view password) const;

  // Burns the same time as a Verify against a real hash, so that "no such user" and "wrong
  // password" cannot be told apart by timing.
  void VerifyDummy(absl::string_view password) const;

 private:
  uint64_t ops_limit_;
  uint64_t mem_limit_bytes_;
  std::string dummy_hash_;
};

}  // namespace periscope::crypto
