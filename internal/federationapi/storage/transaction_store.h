#pragma once
// The answers to /send transactions, per (origin, txn id): a transaction sent again (a retry
// after a lost answer, or a replay) gets the first answer and changes nothing. Kept for a day,
// as Synapse keeps them; events are deduplicated by id beyond that.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace periscope::federationapi {

class TransactionStore {
 public:
  virtual ~TransactionStore() = default;
  virtual absl::StatusOr<std::optional<std::string>> Answer(const std::string& origin,
                                                            const std::string& txn_id) = 0;
  // Records the answer (the first one recorded stays).
  virtual absl::Status Record(const std::string& origin, const std::string& txn_id,
                              const std::string& answer_json, absl::Time now) = 0;
  // Forgets answers recorded before `before`.
  virtual absl::Status Forget(absl::Time before) = 0;
};

inline constexpr absl::Duration kTransactionAnswerLifetime = absl::Hours(24);

}  // namespace periscope::federationapi
