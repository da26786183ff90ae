#pragma once
// Other servers' signing keys, as the keyring verified them, and the key documents they came in
// (which the notary endpoints serve again).

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pkg/matrix/server_keys.h"

namespace periscope::federationapi {

struct StoredServerKey {
  std::string public_key;  // 32 bytes
  // A current key: usable for requests and events until valid_until (already capped at 7 days
  // after it was fetched). An old key (expired set): usable for events sent before `expired`.
  absl::Time valid_until;
  std::optional<absl::Time> expired;
};

struct StoredKeyDocument {
  std::string document_json;  // as the server signed it
  absl::Time fetched;
  absl::Time valid_until;  // the document's own valid_until_ts
};

class ServerKeyStore {
 public:
  virtual ~ServerKeyStore() = default;
  // The key, or nullopt if none is stored.
  virtual absl::StatusOr<std::optional<StoredServerKey>> Key(const std::string& server_name,
                                                             const std::string& key_id) = 0;
  // Stores a verified document: each of its keys (a key id seen before takes the new values:
  // a key that moved to old_verify_keys stops being current) and the document itself. `fetched`
  // is when it was fetched; current keys are stored valid until min(valid_until, fetched+7d).
  virtual absl::Status StoreDocument(const std::string& server_name, const matrix::ServerKeys& keys,
                                     const std::string& document_json, absl::Time fetched) = 0;
  // The last document stored for the server, or nullopt.
  virtual absl::StatusOr<std::optional<StoredKeyDocument>> Document(
      const std::string& server_name) = 0;
};

// The spec's bound on how long a fetched key may be trusted, whatever it says.
inline constexpr absl::Duration kMaxKeyValidity = absl::Hours(24 * 7);

}  // namespace periscope::federationapi
