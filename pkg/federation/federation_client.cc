#include "pkg/federation/federation_client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/x_matrix.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federation {

std::string FederationResponse::Errcode() const {
  if (body.is_object()) {
    auto it = body.find("errcode");
    if (it != body.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

absl::Status RemoteErrorStatus(const std::string& destination, const FederationResponse& response) {
  absl::StatusCode code = absl::StatusCode::kUnavailable;
  switch (response.status) {
    case 400:
      code = absl::StatusCode::kInvalidArgument;
      break;
    case 403:
      code = absl::StatusCode::kPermissionDenied;
      break;
    case 404:
      code = absl::StatusCode::kNotFound;
      break;
    case 429:
      code = absl::StatusCode::kResourceExhausted;
      break;
    default:
      break;
  }
  std::string message;
  if (response.body.is_object() && response.body.contains("error") &&
      response.body["error"].is_string()) {
    message = response.body["error"].get<std::string>();
  }
  std::string text = absl::StrCat(destination, " answered ", response.status,
                                  message.empty() ? "" : ": ", message.substr(0, 300));
  std::string errcode = response.Errcode();
  if (errcode.empty() || code == absl::StatusCode::kUnavailable) return absl::Status(code, text);
  return MatrixError(code, errcode, text);
}

std::string EncodePathArg(absl::string_view arg) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : arg) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

FederationClient::FederationClient(std::string our_server_name, const matrix::SigningKey& key,
                                   ServerResolver& resolver, HttpsClient& https,
                                   absl::Duration default_timeout)
    : our_server_name_(std::move(our_server_name)),
      key_(key),
      resolver_(resolver),
      https_(https),
      default_timeout_(default_timeout) {}

absl::StatusOr<FederationResponse> FederationClient::Call(const std::string& destination,
                                                          const std::string& method,
                                                          const std::string& target,
                                                          const std::optional<matrix::Json>& body,
                                                          absl::Duration timeout) {
  if (destination == our_server_name_) {
    return absl::FailedPreconditionError("a federation request to ourselves");
  }
  absl::StatusOr<std::vector<ServerAddress>> addresses = resolver_.Resolve(destination);
  if (!addresses.ok()) return addresses.status();
  absl::StatusOr<std::string> authorization =
      matrix::BuildXMatrixAuthorization(method, target, our_server_name_, destination, body, key_);
  if (!authorization.ok()) return authorization.status();
  std::string encoded_body;
  if (body) {
    absl::StatusOr<std::string> encoded = matrix::EncodeCanonicalJson(*body);
    if (!encoded.ok()) return encoded.status();
    encoded_body = std::move(*encoded);
  }
  absl::Status last = absl::UnavailableError(absl::StrCat("no address for ", destination));
  for (const ServerAddress& address : *addresses) {
    HttpsRequest request;
    request.host = address.host;
    request.port = address.port;
    request.host_header = address.host_header;
    request.tls_name = address.tls_name;
    request.allow_private_addresses = address.operator_configured;
    request.method = method;
    request.target = target;
    request.headers = {{"Authorization", *authorization}};
    if (body) {
      request.headers.push_back({"Content-Type", "application/json"});
      request.body = encoded_body;
    }
    request.timeout = timeout == absl::InfiniteDuration() ? default_timeout_ : timeout;
    absl::StatusOr<HttpsResponse> response = https_.SendAndWait(std::move(request));
    if (!response.ok()) {
      last = response.status();
      continue;
    }
    FederationResponse out;
    out.status = response->status;
    out.raw_body = std::move(response->body);
    out.body = matrix::Json::parse(out.raw_body, nullptr, /*allow_exceptions=*/false);
    if (out.body.is_discarded()) out.body = nullptr;
    return out;
  }
  return absl::Status(last.code(), absl::StrCat(destination, ": ", last.message()));
}

}  // namespace periscope::federation
