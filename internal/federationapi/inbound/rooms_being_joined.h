#pragma once
// Events other servers send into a room while one of our users' joins into it is under way.
// Until the send_join answer is taken in, the room is unknown here (or known without the state
// those events need): /send would ignore them or fail to place them, and their sender would count
// them delivered, so a message sent just as our user joined would never reach them. They are
// parked instead (as Synapse's room queues do) and processed, oldest first, once a join is in
// (RoomJoiner hands them to the ParkedPduWorker). Parking stops as soon as one join of the room
// is in, even while another of our users' joins of it is still under way.
// Bounded per room and origin (so one server, which may be one the room's ACL denies, cannot use
// up the room's share); past the bound, events get /send's usual treatment (a later event's
// get_missing_events brings them back).
// Per process: with federationapi sharded by room (DESIGN §5), a room's joins and the /send PDUs
// of that room must reach the same shard.

#include <cstddef>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

class RoomsBeingJoined {
 public:
  struct Parked {
    std::string origin;
    matrix::Json pdu;
  };
  static constexpr size_t kMaxParkedPerOrigin = 500;
  static constexpr size_t kMaxParkedBytesPerOrigin = 8 << 20;
  static constexpr size_t kMaxParkedBytesPerRoom = 64 << 20;

  // A join of `room_id` starts. Each Begin is matched by one Finish.
  void Begin(const std::string& room_id);
  // Parks `pdu` from `origin` if a join of `room_id` is under way (and none is in yet) and the
  // bounds allow; false otherwise (the caller processes it now). The same PDU parked again (a
  // transaction sent again after an outage) is parked once, and counts once.
  bool Park(const std::string& room_id, const std::string& origin, const matrix::Json& pdu);
  // What was parked so far, oldest first, while parking goes on: a peek (room_peeker.h) processes
  // its events in order this way before it stops parking, so that none is overtaken by a later
  // one placed at once.
  std::vector<Parked> TakeParked(const std::string& room_id);
  // A join of `room_id` ends, `joined` or not. What was parked, oldest first, for the caller to
  // process: when the join is in (parking then stops for the room), or when it was the last join
  // of the room under way; else nothing (another join may still bring the room in).
  std::vector<Parked> Finish(const std::string& room_id, bool joined);

 private:
  struct Room {
    int joins = 0;
    bool joined = false;
    size_t bytes = 0;
    absl::flat_hash_map<std::string, std::pair<size_t, size_t>> per_origin;  // count, bytes
    std::vector<Parked> parked;
    // The parked PDUs as they came, to park each once.
    absl::flat_hash_set<std::string> seen;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Room> rooms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::federationapi
