#include "internal/federationapi/keyring/federation_key_fetcher.h"

#include "absl/strings/str_cat.h"

namespace periscope::federationapi {
namespace {

// Key requests are small and a peer that does not answer quickly should not hold up a request
// that waits for its key (Synapse uses 10 s too).
constexpr absl::Duration kKeyRequestTimeout = absl::Seconds(10);

// The peer's answer is not quoted: the message may reach whoever made us ask (a request naming
// an origin of its choice), and must not carry another server's bytes back to them.
absl::Status Refused(const std::string& who, const federation::FederationResponse& r) {
  return absl::UnavailableError(absl::StrCat(who, " answered HTTP ", r.status));
}

}  // namespace

absl::StatusOr<matrix::Json> FederationKeyFetcher::FetchDirect(const std::string& server_name) {
  absl::StatusOr<federation::FederationResponse> r =
      client_.Call(server_name, "GET", "/_matrix/key/v2/server", std::nullopt, kKeyRequestTimeout);
  if (!r.ok()) return r.status();
  if (!r->ok() || !r->body.is_object()) return Refused(server_name, *r);
  return r->body;
}

absl::StatusOr<std::vector<matrix::Json>> FederationKeyFetcher::FetchFromNotary(
    const std::string& notary, const std::string& server_name, absl::Time minimum_valid_until) {
  // The GET form carries minimum_valid_until_ts for all of the server's keys, which room
  // versions 5+ require of notary queries.
  std::string target =
      absl::StrCat("/_matrix/key/v2/query/", federation::EncodePathArg(server_name),
                   "?minimum_valid_until_ts=", absl::ToUnixMillis(minimum_valid_until));
  absl::StatusOr<federation::FederationResponse> r =
      client_.Call(notary, "GET", target, std::nullopt, kKeyRequestTimeout);
  if (!r.ok()) return r.status();
  if (!r->ok() || !r->body.is_object()) return Refused(notary, *r);
  auto keys = r->body.find("server_keys");
  if (keys == r->body.end() || !keys->is_array()) {
    return absl::UnavailableError(absl::StrCat(notary, " answered without server_keys"));
  }
  return std::vector<matrix::Json>(keys->begin(), keys->end());
}

}  // namespace periscope::federationapi
