#pragma once
// Events other servers send into a room while one of our users' joins into it is under way.
// Until the send_join answer is taken in, the room is unknown here (or known without the state
// those events need): /send would ignore them or fail to place them, and their sender would count
// them delivered, so a message sent just as our user joined would never reach them. They are
// parked instead (as Synapse's room queues do) and processed, in arrival order, once the join is
// in (RoomJoiner). Bounded per room; past the bound, events get /send's usual treatment (a later
// event's get_missing_events brings them back).
// Per process: with federationapi sharded by room (DESIGN §5), a room's joins and the /send PDUs
// of that room must reach the same shard.

#include <cstddef>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

class RoomsBeingJoined {
 public:
  struct Parked {
    std::string origin;
    matrix::Json pdu;
  };
  static constexpr size_t kMaxParkedPerRoom = 500;
  static constexpr size_t kMaxParkedBytesPerRoom = 16 << 20;

  // A join of `room_id` starts. Each Begin is matched by one Finish.
  void Begin(const std::string& room_id);
  // Parks `pdu` from `origin` if a join of `room_id` is under way and the room's bound is not
  // reached; false otherwise (the caller processes it now).
  bool Park(const std::string& room_id, const std::string& origin, const matrix::Json& pdu);
  // A join of `room_id` ends (joined or not). When no other join of the room is under way, what
  // was parked, oldest first, for the caller to process; else nothing (the last join takes it).
  std::vector<Parked> Finish(const std::string& room_id);

 private:
  struct Room {
    int joins = 0;
    size_t bytes = 0;
    std::vector<Parked> parked;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Room> rooms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::federationapi
