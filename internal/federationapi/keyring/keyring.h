#pragma once
// The keyring: other servers' public signing keys, for checking request signatures (X-Matrix)
// and event signatures. Keys come from the store (PostgreSQL) while they are valid for the time
// asked about; otherwise from the server itself, then from the configured notaries, each
// document checked (the server's own signature; a notary's signature too) before it is stored.
// One fetch per server at a time: concurrent callers wait for it rather than fetch again. A
// server whose fetch failed, or did not have the key, is not asked again for kRefetchAfter, so a
// peer sending made-up key ids cannot make us hammer it (or a notary).

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "internal/federationapi/keyring/key_fetcher.h"
#include "internal/federationapi/storage/server_key_store.h"
#include "pkg/clock/clock.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federationapi {

struct KeyringCounters {
  // Fetches by outcome; called from the fetching thread. May be empty.
  std::function<void(const std::string& source, bool ok)> on_fetch;
};

class Keyring {
 public:
  Keyring(std::string our_server_name, const matrix::SigningKey& our_key, ServerKeyStore& store,
          KeyFetcher& fetcher, std::vector<std::string> notaries, const Clock& clock,
          KeyringCounters counters = {});

  // What a key is wanted for: old keys (old_verify_keys) only ever sign events.
  enum class Use { kRequest, kEvent };

  // The public key `server_name` signs with as `key_id`, if it was valid at `at`: now for a
  // request, an event's origin_server_ts for room versions 5+, absl::InfinitePast() for room
  // version 4 (no validity check). Errors: UNAUTHENTICATED (M_UNAUTHORIZED) when no such key
  // valid at `at` can be found; UNAVAILABLE when the store cannot be read.
  absl::StatusOr<std::string> PublicKey(const std::string& server_name, const std::string& key_id,
                                        absl::Time at, Use use = Use::kEvent);

  // A request's key: a current key (never an old one) valid now.
  absl::StatusOr<std::string> RequestKey(const std::string& server_name,
                                         const std::string& key_id) {
    return PublicKey(server_name, key_id, clock_.Now(), Use::kRequest);
  }

  // A key document of `server_name` valid at least until `minimum_valid_until`, for the notary
  // endpoints: the stored one if it is, else (when `may_fetch`) a fresh one; if none can be
  // fetched, the last stored one even if stale (the spec: keep serving so old events can still
  // be checked). NOT_FOUND if there is none at all.
  absl::StatusOr<matrix::Json> KeyDocument(const std::string& server_name,
                                           absl::Time minimum_valid_until, bool may_fetch = true);

  static constexpr absl::Duration kRefetchAfter = absl::Minutes(1);

 private:
  struct Flight;
  // Fetches and stores `server_name`'s keys unless a fetch ran within kRefetchAfter (callers
  // then read the store again). Concurrent calls share one fetch.
  absl::Status Refresh(const std::string& server_name, absl::Time minimum_valid_until);
  absl::Status FetchAndStore(const std::string& server_name, absl::Time minimum_valid_until);
  absl::Status StoreVerified(const std::string& server_name, const matrix::Json& document);
  bool NotarySigned(const std::string& notary, const matrix::Json& document);
  // A notary's own key: from the store, else fetched from the notary directly. Never through
  // other notaries and never waiting on another fetch, so that notaries vouching for each other
  // cannot make two fetches wait on each other.
  absl::StatusOr<std::string> NotaryKey(const std::string& notary, const std::string& key_id);

  const std::string our_server_name_;
  const matrix::SigningKey& our_key_;
  ServerKeyStore& store_;
  KeyFetcher& fetcher_;
  const std::vector<std::string> notaries_;
  const Clock& clock_;
  KeyringCounters counters_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Flight>> in_flight_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::Time> last_fetch_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::federationapi
