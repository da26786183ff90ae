#include "internal/federationapi/storage/pg_transaction_store.h"

namespace periscope::federationapi {
namespace {

constexpr pg::Statement kSelect{
    "federationapi_select_transaction",
    "SELECT answer FROM federationapi_transactions WHERE origin = $1 AND txn_id = $2"};
constexpr pg::Statement kInsert{
    "federationapi_insert_transaction",
    "INSERT INTO federationapi_transactions (origin, txn_id, answer, received_ts) VALUES ($1, $2, "
    "$3, $4) ON CONFLICT (origin, txn_id) DO NOTHING"};
constexpr pg::Statement kForget{"federationapi_forget_transactions",
                                "DELETE FROM federationapi_transactions WHERE received_ts < $1"};

}  // namespace

absl::StatusOr<std::optional<std::string>> PgTransactionStore::Answer(const std::string& origin,
                                                                      const std::string& txn_id) {
  absl::StatusOr<pg::Result> r = pool_.Query(kSelect, {origin, txn_id});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return std::nullopt;
  return std::string(r->Text(0, 0));
}

absl::Status PgTransactionStore::Record(const std::string& origin, const std::string& txn_id,
                                        const std::string& answer_json, absl::Time now) {
  return pool_.Query(kInsert, {origin, txn_id, answer_json, absl::ToUnixMillis(now)}).status();
}

absl::Status PgTransactionStore::Forget(absl::Time before) {
  return pool_.Query(kForget, {absl::ToUnixMillis(before)}).status();
}

}  // namespace periscope::federationapi
