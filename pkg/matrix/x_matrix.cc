#include "pkg/matrix/x_matrix.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/json_signing.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

absl::Status Unauthorized(absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnauthenticated, "M_UNAUTHORIZED",
                     absl::StrCat("X-Matrix authorization: ", why));
}

}  // namespace

Json XMatrixSignedObject(absl::string_view method, absl::string_view uri, absl::string_view origin,
                         absl::string_view destination, const std::optional<Json>& content) {
  Json obj = {{"method", std::string(method)},
              {"uri", std::string(uri)},
              {"origin", std::string(origin)},
              {"destination", std::string(destination)}};
  if (content.has_value()) obj["content"] = *content;
  return obj;
}

absl::StatusOr<std::string> BuildXMatrixAuthorization(
    absl::string_view method, absl::string_view uri, absl::string_view origin,
    absl::string_view destination, const std::optional<Json>& content, const SigningKey& key) {
  PERISCOPE_ASSIGN_OR_RETURN(
      std::string sig,
      JsonSignature(XMatrixSignedObject(method, uri, origin, destination, content), key));
  return absl::StrCat("X-Matrix origin=\"", origin, "\",destination=\"", destination, "\",key=\"",
                      key.key_id, "\",sig=\"", sig, "\"");
}

absl::StatusOr<XMatrixAuthorization> ParseXMatrixAuthorization(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  constexpr absl::string_view kScheme = "x-matrix";
  if (header.size() <= kScheme.size() || !absl::StartsWithIgnoreCase(header, kScheme) ||
      !absl::ascii_isspace(static_cast<unsigned char>(header[kScheme.size()]))) {
    return Unauthorized("not an X-Matrix header");
  }
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(header.substr(kScheme.size()));
  XMatrixAuthorization out;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() &&
           (rest[i] == ',' || absl::ascii_isspace(static_cast<unsigned char>(rest[i]))))
      ++i;
    if (i >= rest.size()) break;
    size_t eq = rest.find('=', i);
    if (eq == absl::string_view::npos) return Unauthorized("parameter without '='");
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rest.substr(i, eq - i)));
    i = eq + 1;
    std::string value;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      while (i < rest.size() && rest[i] != '"') {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;  // quoted-pair
        value.push_back(rest[i++]);
      }
      if (i >= rest.size()) return Unauthorized("unterminated quoted value");
      ++i;  // closing quote
    } else {
      size_t end = rest.find(',', i);
      if (end == absl::string_view::npos) end = rest.size();
      value = std::string(absl::StripAsciiWhitespace(rest.substr(i, end - i)));
      i = end;
    }
    if (name == "origin") {
      out.origin = value;
    } else if (name == "destination") {
      out.destination = value;
    } else if (name == "key") {
      out.key_id = value;
    } else if (name == "sig") {
      out.signature = value;
    }  // unknown parameters are ignored, for forward compatibility
  }
  if (out.origin.empty()) return Unauthorized("missing origin");
  if (out.key_id.empty()) return Unauthorized("missing key");
  if (out.signature.empty()) return Unauthorized("missing sig");
  return out;
}

absl::Status VerifyXMatrix(const XMatrixAuthorization& auth, absl::string_view method,
                           absl::string_view uri, const std::optional<Json>& content,
                           absl::string_view our_server_name, absl::string_view public_key) {
  if (!auth.destination.empty() && auth.destination != our_server_name) {
    return Unauthorized(absl::StrCat("the request is for ", auth.destination, ", not for us"));
  }
  Json signed_object = XMatrixSignedObject(method, uri, auth.origin, our_server_name, content);
  signed_object["signatures"] = {{auth.origin, {{auth.key_id, auth.signature}}}};
  absl::Status s = VerifyJsonSignature(signed_object, auth.origin, auth.key_id, public_key);
  if (!s.ok()) return Unauthorized(s.message());
  return absl::OkStatus();
}

}  // namespace periscope::matrix
