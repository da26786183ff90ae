#pragma once
// The newest events of recently active rooms, kept in memory so that the many /sync calls one
// event wakes read its timeline without asking PostgreSQL. Events are appended by syncapi's one
// writer in position order; for each room the cache knows the position after which it holds every
// event of the room ("complete after"), so it can tell "no events in this range" from "not cached".
//
// Not thread-safe: CachingSyncStore locks around it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "internal/syncapi/storage/sync_store.h"

namespace periscope::syncapi {

class RoomEventCache {
 public:
  // Keeps the newest `max_events_per_room` events of the `max_rooms` rooms with the latest
  // events, and never more than `max_bytes` of them in all (events are of very different sizes,
  // up to 64 KiB each: a count alone does not bound memory). Past the budget the rooms least
  // recently written to go first, then the oldest events of the room being written.
  RoomEventCache(size_t max_rooms, size_t max_events_per_room, size_t max_bytes);

  // Adds an event just stored; its pos is greater than that of every event appended before.
  void Append(const SyncEvent& event);
  // Replaces a cached event's JSON (a redaction); nothing if it is not cached.
  void Redact(absl::string_view room_id, absl::string_view event_id,
              absl::string_view redacted_json);

  // Drops what is cached of the room (after a write whose outcome is unknown).
  void Forget(absl::string_view room_id);

  // What SyncStore::RecentEvents(room_id, from, to, limit) answers, if the cache can tell.
  std::optional<std::vector<SyncEvent>> Recent(absl::string_view room_id, int64_t from, int64_t to,
                                               int limit, bool* limited) const;
  // Whether the room has events with from < pos <= to, if the cache can tell.
  std::optional<bool> HasEventsIn(absl::string_view room_id, int64_t from, int64_t to) const;

  size_t rooms() const { return rooms_.size(); }
  // What the cached events take, as counted against max_bytes.
  size_t bytes() const { return bytes_; }

  // The memory one cached event is counted as: its JSON (both forms), ids and bookkeeping.
  static size_t EventBytes(const SyncEvent& event);

 private:
  struct Room {
    // Every event of the room with pos > complete_after is in `events`.
    int64_t complete_after = 0;
    std::deque<SyncEvent> events;  // oldest first
    std::list<std::string>::iterator lru;
    size_t bytes = 0;
  };
  // Drops the room's oldest event (it is no longer complete from there).
  void DropOldest(Room& room);
  void EraseRoom(absl::flat_hash_map<std::string, Room>::iterator it);

  const size_t max_rooms_;
  const size_t max_events_;
  const size_t max_bytes_;
  size_t bytes_ = 0;
  absl::flat_hash_map<std::string, Room> rooms_;
  // Room ids, the room with the latest event first.
  std::list<std::string> lru_;
};

}  // namespace periscope::syncapi
