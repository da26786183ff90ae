#include "internal/roomserver/state/stored_events.h"

namespace periscope::roomserver {

const matrix::ResolvableEvent* StoredEvents::Find(absl::string_view event_id) {
  if (auto it = events_.find(event_id); it != events_.end()) return it->second.get();
  std::unique_ptr<matrix::ResolvableEvent> found;
  absl::StatusOr<std::optional<EventRecord>> record = txn_.Event(event_id);
  if (!record.ok()) {
    if (status_.ok()) status_ = record.status();
    return nullptr;  // not remembered: a retry may read it
  }
  if (*record) {
    absl::StatusOr<matrix::Json> json = matrix::ParseJson((*record)->event_json);
    if (!json.ok()) {
      if (status_.ok()) status_ = json.status();
      return nullptr;
    }
    found = std::make_unique<matrix::ResolvableEvent>(
        matrix::ResolvableEvent{*std::move(json), (*record)->rejected});
  }
  return events_.emplace(std::string(event_id), std::move(found)).first->second.get();
}

}  // namespace periscope::roomserver
