// Canonical JSON parsing on arbitrary bytes: never crash, never recurse without bound, and whatever
// parses must encode canonically and survive a round trip unchanged.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pkg/matrix/canonical_json.h"

using periscope::matrix::EncodeCanonicalJson;
using periscope::matrix::Json;
using periscope::matrix::ParseJson;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Json> parsed = ParseJson(text);
  if (!parsed.ok()) return 0;
  absl::StatusOr<std::string> encoded = EncodeCanonicalJson(*parsed);
  if (!encoded.ok()) abort();  // everything the parser accepts is canonical-encodable
  absl::StatusOr<Json> reparsed = ParseJson(*encoded);
  if (!reparsed.ok() || *reparsed != *parsed) abort();
  absl::StatusOr<std::string> again = EncodeCanonicalJson(*reparsed);
  if (!again.ok() || *again != *encoded) abort();  // canonical form is a fixed point
  return 0;
}
