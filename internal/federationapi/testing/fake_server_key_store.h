#pragma once
// ServerKeyStore in memory, for unit tests of the keyring. It stores exactly what
// PgServerKeyStore stores (the same 7-day cap), so the keyring's tests hold for both.

#include <algorithm>
#include <map>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "internal/federationapi/storage/server_key_store.h"

namespace periscope::federationapi::testing {

class FakeServerKeyStore final : public ServerKeyStore {
 public:
  absl::StatusOr<std::optional<StoredServerKey>> Key(const std::string& server_name,
                                                     const std::string& key_id) override {
    absl::MutexLock lock(&mu_);
    if (miss_next_reads > 0) {  // a read that raced ahead of another caller's store
      --miss_next_reads;
      return std::nullopt;
    }
    auto it = keys_.find({server_name, key_id});
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }
  absl::Status StoreDocument(const std::string& server_name, const matrix::ServerKeys& keys,
                             const std::string& document_json, absl::Time fetched) override {
    absl::MutexLock lock(&mu_);
    ++documents_stored;
    absl::Time until = std::min(keys.valid_until, fetched + kMaxKeyValidity);
    for (const auto& [id, pk] : keys.verify_keys) keys_[{server_name, id}] = {pk, until, {}};
    for (const auto& [id, old] : keys.old_verify_keys) {
      if (!keys.verify_keys.contains(id)) {
        keys_[{server_name, id}] = {old.public_key, old.expired, old.expired};
      }
    }
    documents_[server_name] = {document_json, fetched, keys.valid_until};
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<StoredKeyDocument>> Document(
      const std::string& server_name) override {
    absl::MutexLock lock(&mu_);
    auto it = documents_.find(server_name);
    if (it == documents_.end()) return std::nullopt;
    return it->second;
  }

  int documents_stored = 0;
  // The next this many Key() reads find nothing, whatever is stored.
  int miss_next_reads = 0;

 private:
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, StoredServerKey> keys_;
  std::map<std::string, StoredKeyDocument> documents_;
};

}  // namespace periscope::federationapi::testing
