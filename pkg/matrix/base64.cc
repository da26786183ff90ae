#include "pkg/matrix/base64.h"

#include <array>

#include "absl/status/status.h"

namespace periscope::matrix {
namespace {

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlSafe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Encode(absl::string_view in, const char* alphabet) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
  }
  return out;
}

std::array<int8_t, 256> ReverseTable(const char* alphabet) {
  std::array<int8_t, 256> table;
  table.fill(-1);
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

// Decodes unpadded base64. Unused low bits of the last character are ignored (the spec's
// unpadded base64 accepts them, and the spec's own signing seed has them set).
absl::StatusOr<std::string> Decode(absl::string_view in, const std::array<int8_t, 256>& table) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return absl::InvalidArgumentError("not valid unpadded base64 (length)");
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = table[static_cast<uint8_t>(c)];
    if (v < 0) return absl::InvalidArgumentError("not valid unpadded base64 (character)");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

std::string EncodeBase64(absl::string_view b) { return Encode(b, kStandard); }
std::string EncodeBase64Url(absl::string_view b) { return Encode(b, kUrlSafe); }

absl::StatusOr<std::string> DecodeBase64(absl::string_view t) {
  static const std::array<int8_t, 256> kTable = ReverseTable(kStandard);
  return Decode(t, kTable);
}

absl::StatusOr<std::string> DecodeBase64Url(absl::string_view t) {
  static const std::array<int8_t, 256> kTable = ReverseTable(kUrlSafe);
  return Decode(t, kTable);
}

}  // namespace periscope::matrix
