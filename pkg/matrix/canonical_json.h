#pragma once
// Matrix canonical JSON (spec appendix "Canonical JSON"): a strict parser that is safe on hostile
// input, and the canonical encoder whose bytes are hashed and signed.
//
// Values are nlohmann::json: its objects are std::maps, so keys iterate in byte order, which for
// UTF-8 is code-point order, the order canonical JSON sorts by.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace periscope::matrix {

using Json = nlohmann::json;

// Integers must fit IEEE doubles exactly: [-(2^53)+1, (2^53)-1].
inline constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

struct JsonLimits {
  // Larger input is refused (M_TOO_LARGE) before parsing.
  size_t max_bytes = 1 << 20;
  // Deeper nesting of arrays/objects is refused (M_BAD_JSON): bounds recursion and stack use.
  int max_depth = 100;
};

// Parses JSON text strictly. Errors (INVALID_ARGUMENT) carry M_NOT_JSON for text that is not
// JSON at all, and M_BAD_JSON for JSON that canonical JSON forbids: numbers that are not integers
// or are out of range, duplicate object keys, invalid UTF-8, lone surrogate escapes, nesting beyond
// the limit. Numbers with an exponent or a zero fraction that denote an integer (1e10, -0) are
// accepted, as in the spec's examples. Messages give the byte offset.
absl::StatusOr<Json> ParseJson(absl::string_view text, const JsonLimits& limits = {});

// The canonical encoding of `value`: sorted keys, no insignificant whitespace, UTF-8 unescaped,
// only the required escapes. Fails (M_BAD_JSON) for floats, integers out of range, or strings
// that are not valid UTF-8.
absl::StatusOr<std::string> EncodeCanonicalJson(const Json& value);

}  // namespace periscope::matrix
