#include "pkg/matrix/json_signing.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/base64.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

absl::Status Unauthenticated(absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnauthenticated, errcode::kForbidden, why);
}

// The bytes that are signed: canonical JSON without "signatures" and "unsigned".
absl::StatusOr<std::string> SignedBytes(const Json& object) {
  if (!object.is_object()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, errcode::kBadJson,
                       "only JSON objects can be signed");
  }
  Json stripped = object;
  stripped.erase("signatures");
  stripped.erase("unsigned");
  return EncodeCanonicalJson(stripped);
}

}  // namespace

absl::StatusOr<std::string> JsonSignature(const Json& object, const SigningKey& key) {
  PERISCOPE_ASSIGN_OR_RETURN(std::string bytes, SignedBytes(object));
  if (key.secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return absl::InvalidArgumentError("the signing key has no expanded secret key");
  }
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(bytes.data()),
                       bytes.size(), reinterpret_cast<const unsigned char*>(key.secret_key.data()));
  return EncodeBase64(absl::string_view(reinterpret_cast<const char*>(sig), sizeof sig));
}

absl::StatusOr<Json> SignJson(Json object, absl::string_view entity, const SigningKey& key) {
  PERISCOPE_ASSIGN_OR_RETURN(std::string signature, JsonSignature(object, key));
  Json& signatures = object["signatures"];
  if (!signatures.is_object()) signatures = Json::object();
  Json& by_entity = signatures[std::string(entity)];
  if (!by_entity.is_object()) by_entity = Json::object();
  by_entity[key.key_id] = signature;
  return object;
}

absl::Status VerifyJsonSignature(const Json& object, absl::string_view entity,
                                 absl::string_view key_id, absl::string_view public_key) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError("an ed25519 public key is 32 bytes");
  }
  if (!object.is_object()) return Unauthenticated("not a JSON object");
  auto sigs = object.find("signatures");
  if (sigs == object.end() || !sigs->is_object()) return Unauthenticated("no signatures");
  auto by_entity = sigs->find(std::string(entity));
  if (by_entity == sigs->end() || !by_entity->is_object()) {
    return Unauthenticated(absl::StrCat("not signed by ", entity));
  }
  auto sig = by_entity->find(std::string(key_id));
  if (sig == by_entity->end() || !sig->is_string()) {
    return Unauthenticated(absl::StrCat("no signature with key ", key_id));
  }
  absl::StatusOr<std::string> raw = DecodeBase64(sig->get<std::string>());
  if (!raw.ok() || raw->size() != crypto_sign_BYTES) return Unauthenticated("malformed signature");
  PERISCOPE_ASSIGN_OR_RETURN(std::string bytes, SignedBytes(object));
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(raw->data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  bytes.size(),
                                  reinterpret_cast<const unsigned char*>(public_key.data())) != 0) {
    return Unauthenticated("signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace periscope::matrix
