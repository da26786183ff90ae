#pragma once
// TransactionStore in PostgreSQL (federationapi_transactions).

#include "internal/federationapi/storage/transaction_store.h"
#include "pkg/pg/pg.h"

namespace periscope::federationapi {

class PgTransactionStore final : public TransactionStore {
 public:
  explicit PgTransactionStore(pg::Pool& pool) : pool_(pool) {}
  absl::StatusOr<std::optional<std::string>> Answer(const std::string& origin,
                                                    const std::string& txn_id) override;
  absl::Status Record(const std::string& origin, const std::string& txn_id,
                      const std::string& answer_json, absl::Time now) override;
  absl::Status Forget(absl::Time before) override;

 private:
  pg::Pool& pool_;
};

}  // namespace periscope::federationapi
