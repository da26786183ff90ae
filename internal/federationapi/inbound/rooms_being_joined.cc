#include "internal/federationapi/inbound/rooms_being_joined.h"

namespace periscope::federationapi {

void RoomsBeingJoined::Begin(const std::string& room_id) {
  absl::MutexLock lock(&mu_);
  ++rooms_[room_id].joins;
}

bool RoomsBeingJoined::Park(const std::string& room_id, const std::string& origin,
                            const matrix::Json& pdu) {
  absl::MutexLock lock(&mu_);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end() || it->second.joined) return false;
  Room& room = it->second;
  // The PDU as it came (a /send body is bounded, so this is too): its size, and whether it is
  // parked already.
  std::string text = pdu.dump();
  if (room.seen.contains(text)) return true;
  const size_t bytes = text.size();
  auto& [count, origin_bytes] = room.per_origin[origin];
  if (count >= kMaxParkedPerOrigin || origin_bytes + bytes > kMaxParkedBytesPerOrigin ||
      room.bytes + bytes > kMaxParkedBytesPerRoom) {
    return false;
  }
  ++count;
  origin_bytes += bytes;
  room.bytes += bytes;
  room.parked.push_back({origin, pdu});
  room.seen.insert(std::move(text));
  return true;
}

std::vector<RoomsBeingJoined::Parked> RoomsBeingJoined::TakeParked(const std::string& room_id) {
  absl::MutexLock lock(&mu_);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return {};
  Room& room = it->second;
  // The bounds are for what waits: what is taken is being processed. (A busy room's events keep
  // coming during a long drain; counting them all would stop parking them half way, and the next
  // would be placed ahead of the ones still parked.)
  std::vector<Parked> parked = std::move(room.parked);
  room.parked.clear();
  room.per_origin.clear();
  room.bytes = 0;
  return parked;
}

std::vector<RoomsBeingJoined::Parked> RoomsBeingJoined::Finish(const std::string& room_id,
                                                               bool joined) {
  absl::MutexLock lock(&mu_);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return {};
  Room& room = it->second;
  room.joined = room.joined || joined;
  std::vector<Parked> parked;
  if (room.joined || room.joins == 1) {
    parked = std::move(room.parked);
    room.parked.clear();
    room.per_origin.clear();
    room.seen.clear();
    room.bytes = 0;
  }
  if (--room.joins <= 0) rooms_.erase(it);
  return parked;
}

}  // namespace periscope::federationapi
