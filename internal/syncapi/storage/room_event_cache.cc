#include "internal/syncapi/storage/room_event_cache.h"

#include <algorithm>

namespace periscope::syncapi {
namespace {

// The first event after position `to` (events are in position order).
std::deque<SyncEvent>::const_iterator EndAt(const std::deque<SyncEvent>& events, int64_t to) {
  return std::upper_bound(events.begin(), events.end(), to,
                          [](int64_t pos, const SyncEvent& e) { return pos < e.pos; });
}

}  // namespace

RoomEventCache::RoomEventCache(size_t max_rooms, size_t max_events_per_room)
    : max_rooms_(std::max<size_t>(max_rooms, 1)),
      max_events_(std::max<size_t>(max_events_per_room, 1)) {}

void RoomEventCache::Append(const SyncEvent& event) {
  auto it = rooms_.find(event.room_id);
  if (it == rooms_.end()) {
    if (rooms_.size() >= max_rooms_) {
      rooms_.erase(lru_.back());
      lru_.pop_back();
    }
    lru_.push_front(event.room_id);
    Room room;
    // Positions are global and this one is the newest: the room has no event after pos - 1 but
    // this one.
    room.complete_after = event.pos - 1;
    room.lru = lru_.begin();
    it = rooms_.emplace(event.room_id, std::move(room)).first;
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  Room& room = it->second;
  room.events.push_back(event);
  while (room.events.size() > max_events_) {
    room.complete_after = room.events.front().pos;
    room.events.pop_front();
  }
}

void RoomEventCache::Redact(absl::string_view room_id, absl::string_view event_id,
                            absl::string_view redacted_json) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  for (SyncEvent& e : it->second.events) {
    if (e.event_id == event_id) {
      e.event_json = std::string(redacted_json);
      e.client_json = nullptr;  // built again from the redacted form
    }
  }
}

void RoomEventCache::Forget(absl::string_view room_id) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  lru_.erase(it->second.lru);
  rooms_.erase(it);
}

std::optional<std::vector<SyncEvent>> RoomEventCache::Recent(absl::string_view room_id,
                                                             int64_t from, int64_t to, int limit,
                                                             bool* limited) const {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end() || limit < 0) return std::nullopt;
  const Room& room = it->second;
  auto end = EndAt(room.events, to);
  // Walk back from `to` over at most limit + 1 events after `from`.
  auto begin = end;
  size_t found = 0;
  while (begin != room.events.begin() && std::prev(begin)->pos > from &&
         found <= static_cast<size_t>(limit)) {
    --begin;
    ++found;
  }
  if (found > static_cast<size_t>(limit)) {
    *limited = true;
    return std::vector<SyncEvent>(std::next(begin), end);
  }
  // Fewer than the limit: right only if the cache holds every event after `from`.
  if (from < room.complete_after) return std::nullopt;
  *limited = false;
  return std::vector<SyncEvent>(begin, end);
}

std::optional<bool> RoomEventCache::HasEventsIn(absl::string_view room_id, int64_t from,
                                                int64_t to) const {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return std::nullopt;
  const Room& room = it->second;
  auto end = EndAt(room.events, to);
  if (end != room.events.begin() && std::prev(end)->pos > from) return true;
  if (from >= room.complete_after) return false;
  return std::nullopt;
}

}  // namespace periscope::syncapi
