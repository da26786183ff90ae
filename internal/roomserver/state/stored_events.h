#pragma once
// A room's stored events as state resolution reads them (matrix::ResolvableEvents), each loaded
// and parsed once per write transaction.

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "internal/roomserver/storage/room_store.h"
#include "pkg/matrix/state_resolution.h"

namespace periscope::roomserver {

class StoredEvents final : public matrix::ResolvableEvents {
 public:
  explicit StoredEvents(RoomWriteTxn& txn) : txn_(txn) {}

  // nullptr for an event the roomserver has not stored, or one it could not read (see status()).
  const matrix::ResolvableEvent* Find(absl::string_view event_id) override;
  // The first storage error a Find met: Find can only answer "unknown", so callers check this
  // after a resolution and fail the transaction rather than trust a result built on a gap.
  const absl::Status& status() const { return status_; }
  // Forgets what is known of `event_id` (it has just been stored).
  void Forget(absl::string_view event_id) { events_.erase(event_id); }

 private:
  RoomWriteTxn& txn_;
  // nullptr: looked up and not found.
  absl::flat_hash_map<std::string, std::unique_ptr<matrix::ResolvableEvent>> events_;
  absl::Status status_;
};

}  // namespace periscope::roomserver
