#include "pkg/matrix/signing_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pkg/crypto/random.h"
#include "pkg/matrix/base64.h"

namespace periscope::matrix {
namespace {

bool ValidVersion(absl::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

absl::StatusOr<SigningKey> FromSeed(const std::string& version, std::string seed) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  if (crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(seed.data())) != 0) {
    return absl::InternalError("cannot derive the ed25519 key pair");
  }
  SigningKey key{absl::StrCat("ed25519:", version), std::move(seed),
                 std::string(reinterpret_cast<char*>(pk), sizeof pk),
                 std::string(reinterpret_cast<char*>(sk), sizeof sk)};
  sodium_memzero(sk, sizeof sk);
  return key;
}

}  // namespace

absl::StatusOr<SigningKey> GenerateSigningKey(const std::string& version) {
  if (!ValidVersion(version)) {
    return absl::InvalidArgumentError("the key version must match [a-zA-Z0-9_]+");
  }
  if (!crypto::InitSodium()) return absl::InternalError("libsodium failed to initialise");
  return FromSeed(version, crypto::RandomBytes(crypto_sign_SEEDBYTES));
}

std::string FormatSigningKey(const SigningKey& key) {
  return absl::StrCat("ed25519 ", key.key_id.substr(std::strlen("ed25519:")), " ",
                      EncodeBase64(key.seed), "\n");
}

absl::StatusOr<SigningKey> ParseSigningKey(const std::string& text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ' ', absl::SkipEmpty());
  if (parts.size() != 3 || parts[0] != "ed25519" || !ValidVersion(parts[1])) {
    return absl::InvalidArgumentError("expected one line \"ed25519 <version> <base64 seed>\"");
  }
  absl::StatusOr<std::string> seed = DecodeBase64(parts[2]);
  if (!seed.ok() || seed->size() != crypto_sign_SEEDBYTES) {
    return absl::InvalidArgumentError("the seed is not 32 bytes of unpadded base64");
  }
  if (!crypto::InitSodium()) return absl::InternalError("libsodium failed to initialise");
  return FromSeed(std::string(parts[1]), *std::move(seed));
}

absl::StatusOr<SigningKey> LoadSigningKey(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        path, ": cannot read the signing key (create one with periscope-keygen --out ", path, ")"));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<SigningKey> key = ParseSigningKey(text.str());
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", key.status().message()));
  }
  return key;
}

absl::Status SaveSigningKey(const SigningKey& key, const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
  }
  std::string line = FormatSigningKey(key);
  ssize_t written = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    return absl::InternalError(absl::StrCat(path, ": short write"));
  }
  return absl::OkStatus();
}

}  // namespace periscope::matrix
