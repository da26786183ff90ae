#include "pkg/matrix/event_crypto.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/crypto/digest.h"
#include "pkg/matrix/base64.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/json_signing.h"
#include "pkg/matrix/room_versions.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

absl::Status NotAnObject() {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                     "an event must be a JSON object");
}

// Top-level keys that survive redaction. Room version 11 (MSC2176/MSC3821/MSC3989) stops keeping
// "origin", "membership" and "prev_state".
bool KeepsTopLevelKey(absl::string_view key, int version) {
  static const std::set<std::string, std::less<>> kKeys = {
      "event_id", "type",       "room_id", "sender",      "state_key",   "content",
      "hashes",   "signatures", "depth",   "prev_events", "auth_events", "origin_server_ts"};
  static const std::set<std::string, std::less<>> kUntilV11 = {"origin", "membership",
                                                               "prev_state"};
  return kKeys.contains(key) || (version < 11 && kUntilV11.contains(key));
}

// Content keys that survive redaction; `all_content` is set where every key does (v11 create).
std::set<std::string, std::less<>> KeptContentKeys(absl::string_view type, int version,
                                                   bool* all_content) {
  *all_content = false;
  if (type == "m.room.member") {
    if (version >= 11)
      return {"membership", "join_authorised_via_users_server", "third_party_invite"};
    if (version >= 9) return {"membership", "join_authorised_via_users_server"};
    return {"membership"};
  }
  if (type == "m.room.create") {
    *all_content = version >= 11;
    return {"creator"};
  }
  if (type == "m.room.join_rules") {
    if (version >= 8) return {"join_rule", "allow"};
    return {"join_rule"};
  }
  if (type == "m.room.power_levels") {
    std::set<std::string, std::less<>> keys = {"ban",   "events",       "events_default",
                                               "kick",  "redact",       "state_default",
                                               "users", "users_default"};
    if (version >= 11) keys.insert("invite");
    return keys;
  }
  if (type == "m.room.history_visibility") return {"history_visibility"};
  if (type == "m.room.aliases" && version <= 5) return {"aliases"};
  if (type == "m.room.redaction" && version >= 11) return {"redacts"};
  return {};
}

}  // namespace

absl::StatusOr<int> ParseRoomVersion(absl::string_view version) {
  int v = 0;
  if (!absl::SimpleAtoi(version, &v) || v < kMinSupportedRoomVersion ||
      v > kMaxSupportedRoomVersion || absl::StrCat(v) != version) {
    return MatrixError(
        absl::StatusCode::kInvalidArgument, "M_UNSUPPORTED_ROOM_VERSION",
        absl::StrCat("room version \"", version, "\" is not supported (", kMinSupportedRoomVersion,
                     "-", kMaxSupportedRoomVersion, " are)"));
  }
  return v;
}

absl::StatusOr<std::string> ContentHash(const Json& event) {
  if (!event.is_object()) return NotAnObject();
  Json copy = event;
  copy.erase("unsigned");
  copy.erase("signatures");
  copy.erase("hashes");
  PERISCOPE_ASSIGN_OR_RETURN(std::string canonical, EncodeCanonicalJson(copy));
  return EncodeBase64(crypto::Sha256(canonical));
}

absl::StatusOr<Json> RedactEvent(const Json& event, int room_version) {
  if (!event.is_object()) return NotAnObject();
  Json out = Json::object();
  for (const auto& [key, value] : event.items()) {
    if (KeepsTopLevelKey(key, room_version)) out[key] = value;
  }
  std::string type =
      event.value("type", Json()).is_string() ? event["type"].get<std::string>() : "";
  Json content = Json::object();
  if (auto it = event.find("content"); it != event.end() && it->is_object()) {
    bool all_content = false;
    std::set<std::string, std::less<>> kept = KeptContentKeys(type, room_version, &all_content);
    for (const auto& [key, value] : it->items()) {
      if (all_content || kept.contains(key)) content[key] = value;
    }
    // v11 keeps only the "signed" part of a member event's third_party_invite.
    // (as Synapse does: a non-object third_party_invite goes entirely).
    if (auto tpi = content.find("third_party_invite"); tpi != content.end()) {
      if (!tpi->is_object()) {
        content.erase(tpi);
      } else {
        Json signed_part = Json::object();
        if (tpi->contains("signed")) signed_part["signed"] = (*tpi)["signed"];
        *tpi = std::move(signed_part);
      }
    }
  }
  out["content"] = std::move(content);
  return out;
}

absl::StatusOr<std::string> ReferenceHash(const Json& event, int room_version) {
  PERISCOPE_ASSIGN_OR_RETURN(Json redacted, RedactEvent(event, room_version));
  redacted.erase("signatures");
  redacted.erase("unsigned");
  PERISCOPE_ASSIGN_OR_RETURN(std::string canonical, EncodeCanonicalJson(redacted));
  return crypto::Sha256(canonical);
}

absl::StatusOr<std::string> ComputeEventId(const Json& event, int room_version) {
  PERISCOPE_ASSIGN_OR_RETURN(std::string hash, ReferenceHash(event, room_version));
  return "$" + EncodeBase64Url(hash);
}

absl::StatusOr<Json> SignEvent(Json event, absl::string_view server_name, const SigningKey& key,
                               int room_version) {
  PERISCOPE_ASSIGN_OR_RETURN(std::string hash, ContentHash(event));
  event["hashes"] = Json{{"sha256", hash}};
  return AddEventSignature(std::move(event), server_name, key, room_version);
}

absl::StatusOr<Json> AddEventSignature(Json event, absl::string_view server_name,
                                       const SigningKey& key, int room_version) {
  PERISCOPE_ASSIGN_OR_RETURN(Json redacted, RedactEvent(event, room_version));
  PERISCOPE_ASSIGN_OR_RETURN(std::string signature, JsonSignature(redacted, key));
  Json& signatures = event["signatures"];
  if (!signatures.is_object()) signatures = Json::object();
  Json& by_server = signatures[std::string(server_name)];
  if (!by_server.is_object()) by_server = Json::object();
  by_server[key.key_id] = signature;
  return event;
}

absl::Status VerifyEventSignature(const Json& event, absl::string_view server_name,
                                  absl::string_view key_id, absl::string_view public_key,
                                  int room_version) {
  PERISCOPE_ASSIGN_OR_RETURN(Json redacted, RedactEvent(event, room_version));
  return VerifyJsonSignature(redacted, server_name, key_id, public_key);
}

}  // namespace periscope::matrix
