// Identifier and base64 parsing on arbitrary bytes: never crash; accepted identifiers respect the
// 255-byte limit and rebuild to the input; base64 round-trips whatever decodes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "pkg/matrix/base64.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/user_id.h"

namespace m = periscope::matrix;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (char sigil : {'@', '!', '#'}) {
    absl::StatusOr<m::SigilId> id = m::ParseSigilId(text, sigil);
    if (!id.ok()) continue;
    if (text.size() > 255) abort();
    std::string rebuilt = std::string(1, id->sigil) + id->localpart + ":" + id->server_name;
    if (rebuilt != text) abort();
    if (!m::ValidateServerName(id->server_name).ok()) abort();
  }
  absl::StatusOr<m::UserIdParts> user = m::ParseUserId(text);
  if (user.ok() && text.size() > m::kMaxUserIdBytes) abort();
  (void)m::ValidateRoomId(text);
  (void)m::ValidateRoomAlias(text);
  (void)m::ValidateEventId(text);
  (void)m::ValidateServerName(text);
  absl::StatusOr<std::string> decoded = m::DecodeBase64(text);
  if (decoded.ok()) {
    absl::StatusOr<std::string> again = m::DecodeBase64(m::EncodeBase64(*decoded));
    if (!again.ok() || *again != *decoded) abort();
  }
  absl::StatusOr<std::string> decoded_url = m::DecodeBase64Url(text);
  if (decoded_url.ok()) {
    absl::StatusOr<std::string> again = m::DecodeBase64Url(m::EncodeBase64Url(*decoded_url));
    if (!again.ok() || *again != *decoded_url) abort();
  }
  return 0;
}
