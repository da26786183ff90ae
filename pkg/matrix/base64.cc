#include "pkg/matrix/base64.h"

#include <sodium.h>

#include "absl/status/status.h"

namespace periscope::matrix {
namespace {

std::string Encode(absl::string_view bytes, int variant) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

absl::StatusOr<std::string> Decode(absl::string_view text, int variant) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out(text.size() * 3 / 4 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return absl::InvalidArgumentError("not valid unpadded base64");
  }
  out.resize(len);
  return out;
}

}  // namespace

std::string EncodeBase64(absl::string_view b) {
  return Encode(b, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}
std::string EncodeBase64Url(absl::string_view b) {
  return Encode(b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
absl::StatusOr<std::string> DecodeBase64(absl::string_view t) {
  return Decode(t, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}
absl::StatusOr<std::string> DecodeBase64Url(absl::string_view t) {
  return Decode(t, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

}  // namespace periscope::matrix
