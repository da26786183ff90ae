#include "internal/federationapi/inbound/pdu_checks.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/auth_events.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/event_builder.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/user_id.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;
constexpr int kMaxKeyIdsPerSigner = 4;

absl::Status Malformed(absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kBadJson,
                     absl::StrCat("malformed event: ", why));
}

absl::Status Unsigned(absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnauthenticated, matrix::errcode::kForbidden, why);
}

bool IsStringArray(const matrix::Json& v) {
  if (!v.is_array()) return false;
  for (const auto& e : v) {
    if (!e.is_string()) return false;
  }
  return true;
}

absl::Status CheckFormat(const matrix::Json& pdu, int room_version) {
  if (!pdu.is_object()) return Malformed("not an object");
  // A v3+ event id is its hash: an event_id key would be signed and hashed into a different id.
  if (pdu.contains("event_id")) return Malformed("room version 4+ events have no event_id");
  for (const char* field : {"type", "sender"}) {
    if (!pdu.contains(field) || !pdu[field].is_string() ||
        pdu[field].get_ref<const std::string&>().empty()) {
      return Malformed(absl::StrCat(field, " must be a non-empty string"));
    }
  }
  const bool v12_create = room_version >= 12 && pdu["type"] == "m.room.create";
  if (!v12_create && (!pdu.contains("room_id") || !pdu["room_id"].is_string())) {
    return Malformed("room_id must be a string");
  }
  if (v12_create && pdu.contains("room_id")) {
    return Malformed("a room version 12 create event has no room_id");
  }
  if (!matrix::ParseUserId(pdu["sender"].get<std::string>()).ok()) {
    return Malformed("sender is not a user id");
  }
  if (!pdu.contains("depth") || !pdu["depth"].is_number_integer() ||
      pdu["depth"].get<int64_t>() < 0 || pdu["depth"].get<int64_t>() > kMaxSafeInteger) {
    return Malformed("depth must be an integer from 0 to 2^53-1");
  }
  if (!pdu.contains("origin_server_ts") || !pdu["origin_server_ts"].is_number_integer()) {
    return Malformed("origin_server_ts must be an integer");
  }
  if (!pdu.contains("content") || !pdu["content"].is_object()) {
    return Malformed("content must be an object");
  }
  for (const char* field : {"prev_events", "auth_events"}) {
    if (!pdu.contains(field) || !IsStringArray(pdu[field])) {
      return Malformed(absl::StrCat(field, " must be a list of event ids"));
    }
  }
  if (pdu.contains("state_key") && !pdu["state_key"].is_string()) {
    return Malformed("state_key must be a string");
  }
  const matrix::Json& hashes = matrix::JsonField(pdu, "hashes");
  if (!hashes.is_object() || !hashes.contains("sha256") || !hashes["sha256"].is_string()) {
    return Malformed("hashes.sha256 is missing");
  }
  if (!pdu.contains("signatures") || !pdu["signatures"].is_object()) {
    return Malformed("signatures is missing");
  }
  if (room_version >= 12) {
    // The create event is implied in v12; listing it is an error (Synapse drops such events).
    std::string room_id = RoomIdOfPdu(pdu);
    std::string create_id = matrix::CreateEventIdOfRoom(room_id);
    for (const auto& id : pdu["auth_events"]) {
      if (id == create_id)
        return Malformed("room version 12 auth_events must not list the create event");
    }
  }
  return absl::OkStatus();
}

// Server names whose signatures the event needs.
std::set<std::string> RequiredSigners(const matrix::Json& pdu, int room_version) {
  std::set<std::string> servers;
  servers.insert(matrix::ParseUserId(pdu["sender"].get<std::string>())->server_name);
  if (room_version >= 8 && pdu["type"] == "m.room.member") {
    const matrix::Json& via =
        matrix::JsonField(matrix::ContentOf(pdu), "join_authorised_via_users_server");
    if (via.is_string()) {
      if (auto user = matrix::ParseUserId(via.get<std::string>()); user.ok()) {
        servers.insert(user->server_name);
      }
    }
  }
  return servers;
}

}  // namespace

std::string RoomIdOfPdu(const matrix::Json& pdu) {
  if (!pdu.is_object()) return "";
  std::string room_id = matrix::StringField(pdu, "room_id");
  if (!room_id.empty()) return room_id;
  if (matrix::StringField(pdu, "type") == "m.room.create" && !pdu.contains("room_id")) {
    absl::StatusOr<std::string> id = matrix::ComputeEventId(pdu, 12);
    if (id.ok()) return matrix::RoomIdOfCreateEvent(*id);
  }
  return "";
}

absl::Status VerifyServerSignature(const matrix::Json& event, const std::string& server,
                                   int room_version, Keyring& keyring) {
  // Keys must have been valid when the event was sent (room versions 5+).
  const matrix::Json& ts = matrix::JsonField(event, "origin_server_ts");
  absl::Time at = room_version >= 5 && ts.is_number_integer()
                      ? absl::FromUnixMillis(ts.get<int64_t>())
                      : absl::InfinitePast();
  const matrix::Json& signatures = matrix::JsonField(event, "signatures");
  auto by_server = signatures.is_object() ? signatures.find(server) : signatures.end();
  if (!signatures.is_object() || by_server == signatures.end() || !by_server->is_object() ||
      by_server->empty()) {
    return Unsigned(absl::StrCat("the event is not signed by ", server));
  }
  absl::Status last = Unsigned(absl::StrCat("no signature of ", server, " verifies"));
  // A few key ids at most: each unknown one may cost a key lookup, and a server signs with one.
  int tried = 0;
  for (const auto& [key_id, sig] : by_server->items()) {
    if (!absl::StartsWith(key_id, "ed25519:")) continue;
    if (++tried > kMaxKeyIdsPerSigner) break;
    absl::StatusOr<std::string> key = keyring.PublicKey(server, key_id, at);
    if (!key.ok()) {
      if (!absl::IsUnauthenticated(key.status())) return key.status();
      last = Unsigned(key.status().message());
      continue;
    }
    absl::Status s = matrix::VerifyEventSignature(event, server, key_id, *key, room_version);
    if (s.ok()) return absl::OkStatus();
    last = Unsigned(absl::StrCat(server, "'s signature ", key_id, ": ", s.message()));
  }
  return last;
}

absl::StatusOr<CheckedPdu> CheckPdu(const matrix::Json& pdu, int room_version, Keyring& keyring) {
  if (absl::Status s = CheckFormat(pdu, room_version); !s.ok()) return s;
  if (absl::Status s = matrix::CheckEventSize(pdu); !s.ok()) return Malformed(s.message());
  CheckedPdu out;
  out.event = pdu;
  // Only `age` survives from what the sender put in unsigned.
  if (auto it = out.event.find("unsigned"); it != out.event.end()) {
    matrix::Json kept = matrix::Json::object();
    if (it->is_object() && it->contains("age") && (*it)["age"].is_number_integer()) {
      kept["age"] = (*it)["age"];
    }
    if (kept.empty()) {
      out.event.erase(it);
    } else {
      *it = std::move(kept);
    }
  }
  absl::StatusOr<std::string> event_id = matrix::ComputeEventId(out.event, room_version);
  if (!event_id.ok()) return Malformed(event_id.status().message());
  out.event_id = *std::move(event_id);
  out.room_id = RoomIdOfPdu(out.event);

  for (const std::string& server : RequiredSigners(out.event, room_version)) {
    PERISCOPE_RETURN_IF_ERROR(VerifyServerSignature(out.event, server, room_version, keyring));
  }

  absl::StatusOr<std::string> hash = matrix::ContentHash(out.event);
  if (!hash.ok() || *hash != out.event["hashes"]["sha256"].get<std::string>()) {
    absl::StatusOr<matrix::Json> redacted = matrix::RedactEvent(out.event, room_version);
    if (!redacted.ok()) return Malformed(redacted.status().message());
    out.event = *std::move(redacted);
    out.redacted = true;
  }
  return out;
}

absl::StatusOr<CheckedPdu> CheckRequestPdu(const matrix::Json& pdu, int room_version,
                                           Keyring& keyring) {
  absl::StatusOr<CheckedPdu> checked = CheckPdu(pdu, room_version, keyring);
  if (!checked.ok()) {
    if (absl::IsUnavailable(checked.status())) return checked.status();
    if (absl::IsUnauthenticated(checked.status())) {
      return MatrixError(absl::StatusCode::kPermissionDenied, matrix::errcode::kForbidden,
                         checked.status().message());
    }
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kBadJson,
                       checked.status().message());
  }
  if (checked->redacted) {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kBadJson,
                       "The event's content hash does not match");
  }
  return checked;
}

}  // namespace periscope::federationapi
