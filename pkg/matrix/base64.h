#pragma once
// Unpadded base64, as Matrix uses it (standard and URL-safe alphabets).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope::matrix {

std::string EncodeBase64(absl::string_view bytes);     // standard alphabet, no padding
std::string EncodeBase64Url(absl::string_view bytes);  // URL-safe alphabet, no padding

// Accepts unpadded (and, leniently, padded) input; unused bits of the last character are
// ignored, as the spec's unpadded base64 allows.
absl::StatusOr<std::string> DecodeBase64(absl::string_view text);
absl::StatusOr<std::string> DecodeBase64Url(absl::string_view text);

}  // namespace periscope::matrix
