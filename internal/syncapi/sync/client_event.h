#pragma once
// syncapi's events in client form (pkg/matrix/client_event.h), plus unsigned.transaction_id for
// the device that sent it.

#include <string>

#include "absl/status/statusor.h"
#include "internal/syncapi/storage/sync_store.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::syncapi {

// Whether the requesting device sent the event (and so sees its transaction id).
bool IsOwnEcho(const SyncEvent& event, absl::string_view user_id, absl::string_view device_id);

// `for_device` is the requesting device as "user_id|device_id"-free pair: the transaction id is
// only shown to the device that sent the event.
absl::StatusOr<matrix::Json> ClientEvent(const SyncEvent& event, absl::string_view user_id,
                                         absl::string_view device_id);

// Only type, state_key, sender and content (invite_state's "stripped state").
absl::StatusOr<matrix::Json> StrippedStateEvent(const SyncEvent& event);

}  // namespace periscope::syncapi
