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

RoomEventCache::RoomEventCache(size_t max_rooms, size_t max_events_per_room, size_t max_bytes)
    : max_rooms_(std::max<size_t>(max_rooms, 1)),
      max_events_(std::max<size_t>(max_events_per_room, 1)),
      max_bytes_(max_bytes) {}

size_t RoomEventCache::EventBytes(const SyncEvent& e) {
  constexpr size_t kOverhead = 256;  // the struct, its strings' headers, the deque slot
  return kOverhead + e.event_id.size() + e.room_id.size() + e.type.size() +
         e.state_key.value_or("").size() + e.sender.size() + e.event_json.size() +
         e.device_id.size() + e.txn_id.size() + e.membership.size() +
         (e.client_json ? e.client_json->size() : 0);
}

void RoomEventCache::DropOldest(Room& room) {
  const size_t b = EventBytes(room.events.front());
  room.bytes -= b;
  bytes_ -= b;
  room.complete_after = room.events.front().pos;
  room.events.pop_front();
}

void RoomEventCache::EraseRoom(absl::flat_hash_map<std::string, Room>::iterator it) {
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  rooms_.erase(it);
}

void RoomEventCache::Append(const SyncEvent& event) {
  auto it = rooms_.find(event.room_id);
  if (it == rooms_.end()) {
    if (rooms_.size() >= max_rooms_) EraseRoom(rooms_.find(lru_.back()));
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
  const size_t b = EventBytes(event);
  room.bytes += b;
  bytes_ += b;
  while (room.events.size() > max_events_) DropOldest(room);
  // Over the byte budget: other rooms first, least recently written first; then this room's
  // oldest events (its newest event always stays).
  while (bytes_ > max_bytes_ && lru_.size() > 1) EraseRoom(rooms_.find(lru_.back()));
  while (bytes_ > max_bytes_ && room.events.size() > 1) DropOldest(room);
}

void RoomEventCache::Redact(absl::string_view room_id, absl::string_view event_id,
                            absl::string_view redacted_json) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  for (SyncEvent& e : it->second.events) {
    if (e.event_id == event_id) {
      const size_t before = EventBytes(e);
      e.event_json = std::string(redacted_json);
      e.client_json = nullptr;  // built again from the redacted form
      const size_t after = EventBytes(e);
      it->second.bytes = it->second.bytes - before + after;
      bytes_ = bytes_ - before + after;
    }
  }
}

void RoomEventCache::Forget(absl::string_view room_id) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  EraseRoom(it);
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
