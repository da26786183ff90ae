// periscope-keygen: writes a new ed25519 signing key ("ed25519 <version> <seed>").

#include <cstdio>
#include <ctime>
#include <string>

#include "pkg/matrix/signing_key.h"

int main(int argc, char** argv) {
  std::string out;
  std::string version = "a_" + std::to_string(std::time(nullptr) % 100000);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else if (arg == "--version" && i + 1 < argc) {
      version = argv[++i];
    } else {
      std::fprintf(stderr,
                   "Usage: periscope-keygen --out PATH [--version KEY_VERSION]\n"
                   "Writes a new ed25519 signing key to PATH (which must not exist).\n");
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "periscope-keygen: --out PATH is required\n");
    return 2;
  }
  absl::StatusOr<periscope::matrix::SigningKey> key =
      periscope::matrix::GenerateSigningKey(version);
  if (!key.ok()) {
    std::fprintf(stderr, "periscope-keygen: %s\n", std::string(key.status().message()).c_str());
    return 1;
  }
  if (absl::Status s = periscope::matrix::SaveSigningKey(*key, out); !s.ok()) {
    std::fprintf(stderr, "periscope-keygen: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("wrote %s (key id %s)\n", out.c_str(), key->key_id.c_str());
  return 0;
}
