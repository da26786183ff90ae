#include "internal/federationapi/keyring/keyring.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "pkg/logging/logging.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/json_signing.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

absl::Status NoKey(const std::string& server, const std::string& key_id, absl::string_view why) {
  return MatrixError(absl::StatusCode::kUnauthenticated, "M_UNAUTHORIZED",
                     absl::StrCat("no usable key ", key_id, " of ", server, ": ", why));
}

bool Usable(const StoredServerKey& key, absl::Time at, Keyring::Use use) {
  // Old keys "are only valid for signing events" (server-server spec, publishing keys).
  if (key.expired && use == Keyring::Use::kRequest) return false;
  if (at == absl::InfinitePast()) return true;
  if (key.expired) return at < *key.expired;
  return at <= key.valid_until;
}

}  // namespace

struct Keyring::Flight {
  absl::Notification done;
  absl::Status result;
};

Keyring::Keyring(std::string our_server_name, const matrix::SigningKey& our_key,
                 ServerKeyStore& store, KeyFetcher& fetcher, std::vector<std::string> notaries,
                 const Clock& clock, KeyringCounters counters)
    : our_server_name_(std::move(our_server_name)),
      our_key_(our_key),
      store_(store),
      fetcher_(fetcher),
      notaries_(std::move(notaries)),
      clock_(clock),
      counters_(std::move(counters)) {}

absl::StatusOr<std::string> Keyring::PublicKey(const std::string& server_name,
                                               const std::string& key_id, absl::Time at, Use use) {
  if (server_name == our_server_name_) {
    if (key_id == our_key_.key_id) return our_key_.public_key;
    return NoKey(server_name, key_id, "not our key");
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::optional<StoredServerKey>> stored = store_.Key(server_name, key_id);
    if (!stored.ok()) return stored.status();
    if (*stored && Usable(**stored, at, use)) return (*stored)->public_key;
    if (attempt == 1) {
      return NoKey(server_name, key_id,
                   *stored ? "it is not valid for this use at the time asked about" : "not found");
    }
    absl::Time needed = at == absl::InfinitePast() ? clock_.Now() : at;
    // Even when this caller's own fetch is refused (another fetched moments ago), the store is
    // read again: that other fetch may just have stored the key.
    (void)Refresh(server_name, needed);
  }
  return NoKey(server_name, key_id, "not found");
}

absl::StatusOr<matrix::Json> Keyring::KeyDocument(const std::string& server_name,
                                                  absl::Time minimum_valid_until, bool may_fetch) {
  absl::Time now = clock_.Now();
  if (server_name == our_server_name_) {
    return absl::NotFoundError("our own keys are served by GET /_matrix/key/v2/server");
  }
  auto stored = [&]() -> absl::StatusOr<std::optional<StoredKeyDocument>> {
    return store_.Document(server_name);
  };
  absl::StatusOr<std::optional<StoredKeyDocument>> doc = stored();
  if (!doc.ok()) return doc.status();
  bool fresh = *doc && (*doc)->valid_until >= std::max(minimum_valid_until, now);
  if (!fresh && may_fetch) {
    (void)Refresh(server_name, std::max(minimum_valid_until, now));
    doc = stored();
    if (!doc.ok()) return doc.status();
  }
  if (!*doc) return absl::NotFoundError(absl::StrCat("no keys known for ", server_name));
  matrix::Json json = matrix::Json::parse((*doc)->document_json, nullptr, false);
  if (!json.is_object()) return absl::InternalError("a stored key document does not parse");
  return json;
}

absl::Status Keyring::Refresh(const std::string& server_name, absl::Time minimum_valid_until) {
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = in_flight_.find(server_name); it != in_flight_.end()) {
      flight = it->second;
    } else {
      if (auto last = last_fetch_.find(server_name);
          last != last_fetch_.end() && clock_.Now() - last->second < kRefetchAfter) {
        return absl::UnavailableError(
            absl::StrCat("fetched ", server_name, "'s keys moments ago; not asking again yet"));
      }
      flight = std::make_shared<Flight>();
      in_flight_[server_name] = flight;
      leader = true;
    }
  }
  if (!leader) {
    flight->done.WaitForNotification();
    return flight->result;
  }
  absl::Status result = FetchAndStore(server_name, minimum_valid_until);
  {
    absl::MutexLock lock(&mu_);
    in_flight_.erase(server_name);
    last_fetch_[server_name] = clock_.Now();
  }
  flight->result = result;
  flight->done.Notify();
  return result;
}

absl::Status Keyring::FetchAndStore(const std::string& server_name,
                                    absl::Time minimum_valid_until) {
  absl::Status last = absl::UnavailableError("no key source");
  absl::StatusOr<matrix::Json> direct = fetcher_.FetchDirect(server_name);
  if (direct.ok()) {
    last = StoreVerified(server_name, *direct);
    if (counters_.on_fetch) counters_.on_fetch("direct", last.ok());
    if (last.ok()) return last;
  } else {
    last = direct.status();
    if (counters_.on_fetch) counters_.on_fetch("direct", false);
  }
  logging::Warn("federationapi.key_fetch_failed",
                {{"server", server_name}, {"source", "direct"}, {"error", last.ToString()}});
  for (const std::string& notary : notaries_) {
    if (notary == server_name) continue;
    absl::StatusOr<std::vector<matrix::Json>> docs =
        fetcher_.FetchFromNotary(notary, server_name, minimum_valid_until);
    bool stored_one = false;
    if (docs.ok()) {
      for (const matrix::Json& doc : *docs) {
        if (!NotarySigned(notary, doc)) continue;
        if (StoreVerified(server_name, doc).ok()) stored_one = true;
      }
    }
    if (counters_.on_fetch) counters_.on_fetch("notary", stored_one);
    if (stored_one) return absl::OkStatus();
    last = docs.ok() ? absl::UnavailableError(
                           absl::StrCat("notary ", notary, " returned no usable document"))
                     : docs.status();
  }
  return last;
}

absl::Status Keyring::StoreVerified(const std::string& server_name, const matrix::Json& document) {
  absl::StatusOr<matrix::ServerKeys> keys = matrix::VerifyServerKeys(document, server_name);
  if (!keys.ok()) return keys.status();
  // Stored without the notaries' signatures: a notary answer adds its own.
  matrix::Json own = document;
  if (auto sigs = own.find("signatures"); sigs != own.end() && sigs->is_object()) {
    matrix::Json only = matrix::Json::object();
    if (sigs->contains(server_name)) only[server_name] = (*sigs)[server_name];
    *sigs = std::move(only);
  }
  absl::StatusOr<std::string> text = matrix::EncodeCanonicalJson(own);
  if (!text.ok()) return text.status();
  return store_.StoreDocument(server_name, *keys, *text, clock_.Now());
}

bool Keyring::NotarySigned(const std::string& notary, const matrix::Json& document) {
  if (!document.is_object() || !document.contains("signatures") ||
      !document["signatures"].is_object() || !document["signatures"].contains(notary) ||
      !document["signatures"][notary].is_object()) {
    return false;
  }
  for (const auto& [key_id, sig] : document["signatures"][notary].items()) {
    absl::StatusOr<std::string> key = NotaryKey(notary, key_id);
    if (key.ok() && matrix::VerifyJsonSignature(document, notary, key_id, *key).ok()) return true;
  }
  return false;
}

absl::StatusOr<std::string> Keyring::NotaryKey(const std::string& notary,
                                               const std::string& key_id) {
  absl::Time now = clock_.Now();
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::optional<StoredServerKey>> stored = store_.Key(notary, key_id);
    if (!stored.ok()) return stored.status();
    if (*stored && Usable(**stored, now, Use::kRequest)) return (*stored)->public_key;
    if (attempt == 1) break;
    absl::StatusOr<matrix::Json> direct = fetcher_.FetchDirect(notary);
    if (!direct.ok()) return direct.status();
    if (absl::Status s = StoreVerified(notary, *direct); !s.ok()) return s;
  }
  return NoKey(notary, key_id, "the notary's own key is unknown");
}

}  // namespace periscope::federationapi
