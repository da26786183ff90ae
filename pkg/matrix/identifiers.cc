#include "pkg/matrix/identifiers.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

constexpr size_t kMaxIdBytes = 255;

absl::Status Invalid(absl::string_view what, absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kInvalidParam,
                     absl::StrCat("Invalid ", what, ": ", why));
}

bool IsIpv4(absl::string_view host) {
  std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() != 4) return false;
  for (absl::string_view p : parts) {
    int v = 0;
    if (p.empty() || p.size() > 3 || !absl::SimpleAtoi(p, &v) || v > 255) return false;
    for (char c : p) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  return true;
}

bool IsIpv6Literal(absl::string_view inner) {
  if (inner.size() < 2 || inner.size() > 45) return false;
  int colons = 0;
  for (char c : inner) {
    if (c == ':') {
      ++colons;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != '.') {
      return false;
    }
  }
  return colons >= 2;
}

bool IsDnsName(absl::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateServerName(absl::string_view name) {
  if (name.empty()) return Invalid("server name", "empty");
  absl::string_view host = name;
  absl::string_view port;
  if (name.front() == '[') {
    size_t close = name.find(']');
    if (close == absl::string_view::npos) return Invalid("server name", "unclosed IPv6 literal");
    if (!IsIpv6Literal(name.substr(1, close - 1)))
      return Invalid("server name", "bad IPv6 literal");
    host = name.substr(0, close + 1);
    absl::string_view rest = name.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Invalid("server name", "junk after the IPv6 literal");
      port = rest.substr(1);
      if (port.empty()) return Invalid("server name", "empty port");
    }
  } else {
    size_t colon = name.rfind(':');
    if (colon != absl::string_view::npos) {
      host = name.substr(0, colon);
      port = name.substr(colon + 1);
      if (port.empty()) return Invalid("server name", "empty port");
    }
    if (!IsIpv4(host) && !IsDnsName(host)) return Invalid("server name", "bad hostname");
  }
  if (!port.empty()) {
    int p = 0;
    if (port.size() > 5 || !absl::SimpleAtoi(port, &p) || p < 0 || p > 65535) {
      return Invalid("server name", "bad port");
    }
    for (char c : port) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c)))
        return Invalid("server name", "bad port");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SigilId> ParseSigilId(absl::string_view id, char sigil) {
  std::string what = sigil == '!' ? "room id" : sigil == '#' ? "room alias" : "user id";
  if (id.size() > kMaxIdBytes) return Invalid(what, "longer than 255 bytes");
  if (id.empty() || id.front() != sigil)
    return Invalid(what, absl::StrCat("must start with '", std::string(1, sigil), "'"));
  size_t colon = id.find(':');
  if (colon == absl::string_view::npos) return Invalid(what, "missing ':server_name'");
  absl::string_view local = id.substr(1, colon - 1);
  if (local.empty()) return Invalid(what, "empty localpart");
  if (local.find('\0') != absl::string_view::npos) return Invalid(what, "NUL in the localpart");
  absl::string_view server = id.substr(colon + 1);
  if (absl::Status s = ValidateServerName(server); !s.ok()) {
    return Invalid(what, absl::StrCat("bad server name \"", server, "\""));
  }
  return SigilId{sigil, std::string(local), std::string(server)};
}

absl::Status ValidateRoomId(absl::string_view room_id) {
  if (room_id.find(':') != absl::string_view::npos) return ParseSigilId(room_id, '!').status();
  // Room version 12: "!" and the create event's reference hash (URL-safe base64), no server.
  if (room_id.size() > kMaxIdBytes) return Invalid("room id", "longer than 255 bytes");
  if (room_id.size() < 2 || room_id.front() != '!') {
    return Invalid("room id", "must be !opaque:server, or ! and a hash (room version 12)");
  }
  for (char c : room_id.substr(1)) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return Invalid("room id", "a room id without a server must be URL-safe base64");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRoomAlias(absl::string_view alias) {
  return ParseSigilId(alias, '#').status();
}

absl::Status ValidateEventId(absl::string_view event_id) {
  if (event_id.size() > kMaxIdBytes) return Invalid("event id", "longer than 255 bytes");
  if (event_id.empty() || event_id.front() != '$')
    return Invalid("event id", "must start with '$'");
  absl::string_view rest = event_id.substr(1);
  if (rest.empty()) return Invalid("event id", "empty");
  if (rest.find(':') != absl::string_view::npos) {
    return ParseSigilId(event_id, '$').status().ok() ? absl::OkStatus()
                                                     : Invalid("event id", "bad server name");
  }
  for (char c : rest) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return Invalid("event id", "not URL-safe base64");
    }
  }
  return absl::OkStatus();
}

bool ValidPeekId(absl::string_view peek_id, absl::string_view room_id) {
  if (peek_id == room_id) return true;
  if (peek_id.empty() || peek_id.size() > 8) return false;
  for (char c : peek_id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '.' || c == '=' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::Status ValidateDeviceId(absl::string_view device_id) {
  if (device_id.empty()) return Invalid("device id", "empty");
  if (device_id.size() > kMaxDeviceIdBytes) {
    return Invalid("device id", absl::StrCat("longer than ", kMaxDeviceIdBytes, " bytes"));
  }
  for (char c : device_id) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return Invalid("device id", "contains a control character");
  }
  return absl::OkStatus();
}

}  // namespace periscope::matrix
