#pragma once
// Cryptographically secure random values (libsodium).

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace periscope::crypto {

// Initializes libsodium; safe to call many times. Returns false if the library cannot start.
bool InitSodium();

// `n` random bytes.
std::string RandomBytes(size_t n);

// `n` characters drawn uniformly from `alphabet`.
std::string RandomString(size_t n, absl::string_view alphabet);

}  // namespace periscope::crypto
