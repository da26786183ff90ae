#include "internal/federationapi/storage/pg_server_key_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"

namespace periscope::federationapi {
namespace {

constexpr char kSchemaV1[] = R"sql(
CREATE TABLE federationapi_server_keys (
  server_name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  public_key BYTEA NOT NULL,
  -- current keys: trusted until then (min(valid_until_ts, fetched + 7 days))
  valid_until_ts BIGINT NOT NULL,
  -- old keys: valid for events sent before then; NULL for a current key
  expired_ts BIGINT,
  fetched_ts BIGINT NOT NULL,
  PRIMARY KEY (server_name, key_id)
);
CREATE TABLE federationapi_server_key_documents (
  server_name TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  valid_until_ts BIGINT NOT NULL,
  fetched_ts BIGINT NOT NULL
);
)sql";

constexpr pg::Statement kSelectKey{
    "federationapi_select_server_key",
    "SELECT encode(public_key, 'hex'), valid_until_ts, expired_ts FROM federationapi_server_keys "
    "WHERE server_name = $1 AND key_id = $2"};
constexpr pg::Statement kUpsertKey{
    "federationapi_upsert_server_key",
    "INSERT INTO federationapi_server_keys "
    "(server_name, key_id, public_key, valid_until_ts, expired_ts, fetched_ts) "
    "VALUES ($1, $2, decode($3, 'hex'), $4, $5, $6) ON CONFLICT (server_name, key_id) DO UPDATE "
    "SET public_key = EXCLUDED.public_key, valid_until_ts = EXCLUDED.valid_until_ts, "
    "expired_ts = EXCLUDED.expired_ts, fetched_ts = EXCLUDED.fetched_ts"};
constexpr pg::Statement kUpsertDocument{
    "federationapi_upsert_server_key_document",
    "INSERT INTO federationapi_server_key_documents (server_name, document, valid_until_ts, "
    "fetched_ts) VALUES ($1, $2, $3, $4) ON CONFLICT (server_name) DO UPDATE SET document = "
    "EXCLUDED.document, valid_until_ts = EXCLUDED.valid_until_ts, fetched_ts = "
    "EXCLUDED.fetched_ts"};
constexpr pg::Statement kSelectDocument{
    "federationapi_select_server_key_document",
    "SELECT document, valid_until_ts, fetched_ts FROM federationapi_server_key_documents WHERE "
    "server_name = $1"};

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(absl::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    int v = 0;
    absl::SimpleHexAtoi(hex.substr(i, 2), &v);
    out.push_back(static_cast<char>(v));
  }
  return out;
}

constexpr char kSchemaV2[] = R"sql(
CREATE TABLE federationapi_transactions (
  origin TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  answer TEXT NOT NULL,
  received_ts BIGINT NOT NULL,
  PRIMARY KEY (origin, txn_id)
);
CREATE INDEX federationapi_transactions_received ON federationapi_transactions (received_ts);
)sql";

}  // namespace

const std::vector<pg::Migration>& FederationApiMigrations() {
  static const std::vector<pg::Migration> kMigrations = {
      {1, "server signing keys", kSchemaV1},
      {2, "answers to /send transactions", kSchemaV2},
  };
  return kMigrations;
}

absl::StatusOr<std::optional<StoredServerKey>> PgServerKeyStore::Key(const std::string& server_name,
                                                                     const std::string& key_id) {
  absl::StatusOr<pg::Result> r = pool_.Query(kSelectKey, {server_name, key_id});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::nullopt;
  StoredServerKey key;
  key.public_key = Unhex(r->Text(0, 0));
  key.valid_until = absl::FromUnixMillis(r->Int(0, 1));
  if (!r->IsNull(0, 2)) key.expired = absl::FromUnixMillis(r->Int(0, 2));
  return key;
}

absl::Status PgServerKeyStore::StoreDocument(const std::string& server_name,
                                             const matrix::ServerKeys& keys,
                                             const std::string& document_json, absl::Time fetched) {
  int64_t fetched_ms = absl::ToUnixMillis(fetched);
  int64_t current_until = absl::ToUnixMillis(std::min(keys.valid_until, fetched + kMaxKeyValidity));
  return pool_.Transaction([&](pg::Connection& c) -> absl::Status {
    for (const auto& [key_id, public_key] : keys.verify_keys) {
      if (auto r = c.Query(kUpsertKey, {server_name, key_id, Hex(public_key), current_until,
                                        nullptr, fetched_ms});
          !r.ok()) {
        return r.status();
      }
    }
    for (const auto& [key_id, old] : keys.old_verify_keys) {
      if (keys.verify_keys.contains(key_id)) continue;  // the current entry wins
      int64_t expired_ms = absl::ToUnixMillis(old.expired);
      if (auto r = c.Query(kUpsertKey, {server_name, key_id, Hex(old.public_key), expired_ms,
                                        expired_ms, fetched_ms});
          !r.ok()) {
        return r.status();
      }
    }
    return c
        .Query(kUpsertDocument,
               {server_name, document_json, absl::ToUnixMillis(keys.valid_until), fetched_ms})
        .status();
  });
}

absl::StatusOr<std::optional<StoredKeyDocument>> PgServerKeyStore::Document(
    const std::string& server_name) {
  absl::StatusOr<pg::Result> r = pool_.Query(kSelectDocument, {server_name});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::nullopt;
  return StoredKeyDocument{std::string(r->Text(0, 0)), absl::FromUnixMillis(r->Int(0, 2)),
                           absl::FromUnixMillis(r->Int(0, 1))};
}

}  // namespace periscope::federationapi
