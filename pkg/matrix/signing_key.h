#pragma once
// The server's ed25519 signing key, stored in the Synapse/Dendrite-compatible one-line format
// "ed25519 <version> <unpadded base64 seed>".

#include <string>

#include "absl/status/statusor.h"

namespace periscope::matrix {

struct SigningKey {
  // The key id, "ed25519:<version>".
  std::string key_id;
  // The 32-byte seed.
  std::string seed;
  // The 32-byte public key (derived from the seed).
  std::string public_key;
  // libsodium's 64-byte expanded secret key (derived from the seed once, not at every signature).
  std::string secret_key;
};

// A new random key with the given version ([a-zA-Z0-9_]+).
absl::StatusOr<SigningKey> GenerateSigningKey(const std::string& version);

// The file line for `key`.
std::string FormatSigningKey(const SigningKey& key);

// Parses a key file's content.
absl::StatusOr<SigningKey> ParseSigningKey(const std::string& text);

// Reads a key file; errors name the path.
absl::StatusOr<SigningKey> LoadSigningKey(const std::string& path);

// Writes a key file readable only by its owner (fails if it exists).
absl::Status SaveSigningKey(const SigningKey& key, const std::string& path);

}  // namespace periscope::matrix
