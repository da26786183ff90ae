#pragma once
// ServerKeyStore in PostgreSQL: federationapi_server_keys (one row per server and key id) and
// federationapi_server_key_documents (the last document per server).

#include <vector>

#include "internal/federationapi/storage/server_key_store.h"
#include "pkg/pg/migrations.h"
#include "pkg/pg/pg.h"

namespace periscope::federationapi {

// The federationapi's schema migrations (component "federationapi").
const std::vector<pg::Migration>& FederationApiMigrations();

class PgServerKeyStore final : public ServerKeyStore {
 public:
  explicit PgServerKeyStore(pg::Pool& pool) : pool_(pool) {}
  absl::StatusOr<std::optional<StoredServerKey>> Key(const std::string& server_name,
                                                     const std::string& key_id) override;
  absl::Status StoreDocument(const std::string& server_name, const matrix::ServerKeys& keys,
                             const std::string& document_json, absl::Time fetched) override;
  absl::StatusOr<std::optional<StoredKeyDocument>> Document(
      const std::string& server_name) override;

 private:
  pg::Pool& pool_;
};

}  // namespace periscope::federationapi
