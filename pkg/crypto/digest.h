#pragma once
// Hashes of short strings (libsodium).

#include <string>

#include "absl/strings/string_view.h"

namespace periscope::crypto {

// The SHA-256 digest of `data`, as raw bytes.
std::string Sha256(absl::string_view data);

// The SHA-256 digest of `data`, as lower-case hex (e.g. to store a token's hash as text).
std::string Sha256Hex(absl::string_view data);

}  // namespace periscope::crypto
