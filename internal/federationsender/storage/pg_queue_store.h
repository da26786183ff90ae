#pragma once
// QueueStore in PostgreSQL (federationsender_* tables).

#include <vector>

#include "internal/federationsender/storage/queue_store.h"
#include "pkg/pg/migrations.h"
#include "pkg/pg/pg.h"

namespace periscope::federationsender {

// The federationsender's schema migrations (component "federationsender").
const std::vector<pg::Migration>& FederationSenderMigrations();

class PgQueueStore final : public QueueStore {
 public:
  explicit PgQueueStore(pg::Pool& pool) : pool_(pool) {}

  absl::StatusOr<std::optional<std::vector<std::string>>> Apply(
      const RoomEventToQueue& event, const std::string& our_server) override;
  absl::StatusOr<std::vector<std::string>> JoinedServers(const std::string& room_id) override;
  absl::StatusOr<std::optional<PendingTransaction>> NextTransaction(const std::string& destination,
                                                                    const std::string& new_txn_id,
                                                                    int max_pdus) override;
  absl::Status CompleteTransaction(const std::string& destination,
                                   const std::string& txn_id) override;
  absl::StatusOr<DestinationBackoff> Backoff(const std::string& destination) override;
  absl::Status SetBackoff(const std::string& destination, DestinationBackoff backoff) override;
  absl::StatusOr<std::vector<std::string>> DestinationsWithWork() override;
  absl::StatusOr<int64_t> QueuedPdus() override;
  absl::StatusOr<int64_t> DestinationsInBackoff(absl::Time now) override;
  absl::StatusOr<std::vector<InboundPeekRecord>> InboundPeeks(const std::string& room_id,
                                                              const std::string& server_name,
                                                              const std::string& peek_id) override;
  absl::StatusOr<std::optional<InboundPeekRecord>> RenewInboundPeek(const std::string& room_id,
                                                                    const std::string& server_name,
                                                                    const std::string& peek_id,
                                                                    int64_t now_ms,
                                                                    int64_t interval_ms) override;
  absl::StatusOr<bool> DeleteInboundPeek(const std::string& room_id, const std::string& server_name,
                                         const std::string& peek_id) override;
  absl::StatusOr<std::vector<std::string>> EvictInboundPeeks(int64_t now_ms) override;
  absl::StatusOr<int64_t> InboundPeekCount() override;
  absl::Status PutOutboundPeek(const OutboundPeekRecord& peek) override;
  absl::StatusOr<std::vector<OutboundPeekRecord>> OutboundPeeks(
      const std::string& room_id) override;
  absl::StatusOr<bool> RenewOutboundPeek(const OutboundPeekRecord& peek) override;
  absl::StatusOr<bool> DeleteOutboundPeek(const std::string& room_id,
                                          const std::string& server_name,
                                          const std::string& peek_id) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LocalPeekers(
      const std::string& room_id) override;

 private:
  pg::Pool& pool_;
};

}  // namespace periscope::federationsender
