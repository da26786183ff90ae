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
  if (it == rooms_.end()) return false;
  Room& room = it->second;
  // The PDU's size as it came (a /send body is bounded, so this is too).
  const size_t bytes = pdu.dump().size();
  if (room.parked.size() >= kMaxParkedPerRoom || room.bytes + bytes > kMaxParkedBytesPerRoom) {
    return false;
  }
  room.bytes += bytes;
  room.parked.push_back({origin, pdu});
  return true;
}

std::vector<RoomsBeingJoined::Parked> RoomsBeingJoined::Finish(const std::string& room_id) {
  absl::MutexLock lock(&mu_);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return {};
  if (--it->second.joins > 0) return {};
  std::vector<Parked> parked = std::move(it->second.parked);
  rooms_.erase(it);
  return parked;
}

}  // namespace periscope::federationapi
