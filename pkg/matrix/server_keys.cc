#include "pkg/matrix/server_keys.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/base64.h"
#include "pkg/matrix/json_signing.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

absl::Status BadDocument(absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, "M_BAD_JSON",
                     absl::StrCat("server keys: ", why));
}

}  // namespace

absl::StatusOr<Json> BuildServerKeys(absl::string_view server_name, const SigningKey& key,
                                     absl::Time valid_until) {
  Json doc = {{"server_name", std::string(server_name)},
              {"verify_keys", {{key.key_id, {{"key", EncodeBase64(key.public_key)}}}}},
              {"old_verify_keys", Json::object()},
              {"valid_until_ts", absl::ToUnixMillis(valid_until)}};
  return SignJson(std::move(doc), server_name, key);
}

absl::StatusOr<ServerKeys> VerifyServerKeys(const Json& doc,
                                            absl::string_view expected_server_name) {
  if (!doc.is_object()) return BadDocument("not an object");
  auto name = doc.find("server_name");
  if (name == doc.end() || !name->is_string()) return BadDocument("missing server_name");
  if (*name != std::string(expected_server_name)) {
    return BadDocument(absl::StrCat("document is for ", name->get<std::string>(), ", expected ",
                                    expected_server_name));
  }
  auto until = doc.find("valid_until_ts");
  if (until == doc.end() || !until->is_number_integer())
    return BadDocument("missing valid_until_ts");
  auto keys = doc.find("verify_keys");
  if (keys == doc.end() || !keys->is_object() || keys->empty())
    return BadDocument("no verify_keys");

  ServerKeys out;
  out.server_name = std::string(expected_server_name);
  out.valid_until = absl::FromUnixMillis(until->get<int64_t>());
  absl::Status signature = MatrixError(absl::StatusCode::kUnauthenticated, "M_UNAUTHORIZED",
                                       "server keys: not signed by any of its verify keys");
  bool signed_by_one = false;
  for (const auto& [key_id, entry] : keys->items()) {
    if (!absl::StartsWith(key_id, "ed25519:")) continue;  // algorithms we do not know are skipped
    if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string()) {
      return BadDocument(absl::StrCat("verify key ", key_id, " has no key"));
    }
    absl::StatusOr<std::string> pk = DecodeBase64(entry["key"].get<std::string>());
    if (!pk.ok() || pk->size() != 32)
      return BadDocument(absl::StrCat("verify key ", key_id, " is malformed"));
    if (absl::Status s = VerifyJsonSignature(doc, expected_server_name, key_id, *pk); s.ok()) {
      signed_by_one = true;
    } else {
      signature = MatrixError(absl::StatusCode::kUnauthenticated, "M_UNAUTHORIZED",
                              absl::StrCat("server keys: ", key_id, ": ", s.message()));
    }
    out.verify_keys[key_id] = *pk;
  }
  if (out.verify_keys.empty()) return BadDocument("no ed25519 verify key");
  if (!signed_by_one) return signature;
  if (auto old = doc.find("old_verify_keys"); old != doc.end() && !old->is_null()) {
    if (!old->is_object()) return BadDocument("old_verify_keys is not an object");
    for (const auto& [key_id, entry] : old->items()) {
      if (!absl::StartsWith(key_id, "ed25519:")) continue;
      if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string() ||
          !entry.contains("expired_ts") || !entry["expired_ts"].is_number_integer()) {
        return BadDocument(absl::StrCat("old verify key ", key_id, " needs key and expired_ts"));
      }
      absl::StatusOr<std::string> pk = DecodeBase64(entry["key"].get<std::string>());
      if (!pk.ok() || pk->size() != 32)
        return BadDocument(absl::StrCat("old verify key ", key_id, " is malformed"));
      out.old_verify_keys[key_id] = {*pk, absl::FromUnixMillis(entry["expired_ts"].get<int64_t>())};
    }
  }
  return out;
}

}  // namespace periscope::matrix
