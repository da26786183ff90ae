#pragma once
// Group commit per room. Writes to one room take turns; a write that finds its room busy waits,
// and when the room's turn comes the first of those waiting runs the whole queue behind it as one
// batch (one transaction, one flush) on its own thread, each write with its own result. Rooms do
// not wait for each other. The store decides what a batch is (PgRoomStore::WriteBatch: one
// transaction, a savepoint per write so a refused one undoes only itself).

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace periscope::roomserver {

template <typename Body>
class RoomWriteQueue {
 public:
  // One write of a batch: the runner sets `result`.
  struct Write {
    const Body* body = nullptr;
    absl::Status result;
    bool done = false;
  };
  using RunBatch = std::function<void(absl::string_view room_id, absl::Span<Write* const> batch)>;

  explicit RoomWriteQueue(size_t max_batch) : max_batch_(max_batch) {}

  // Runs `body` in a batch of `room_id`'s writes (run by whichever caller leads that batch) and
  // returns its result. Batches of a room run one after another, in the order writes arrived.
  absl::Status Submit(absl::string_view room_id, const Body& body, const RunBatch& run_batch) {
    Write me{&body};
    std::vector<Write*> batch;
    {
      absl::MutexLock lock(&mu_);
      // node_hash_map: the reference stays valid while other rooms come and go.
      Room& room = rooms_[room_id];
      room.waiting.push_back(&me);
      // `done` first: once the leader has answered this write, the room may be gone.
      auto my_turn = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return me.done || (!room.writing && room.waiting.front() == &me);
      };
      mu_.Await(absl::Condition(&my_turn));
      if (me.done) return me.result;
      room.writing = true;
      const size_t n = std::min(room.waiting.size(), max_batch_);
      batch.assign(room.waiting.begin(), room.waiting.begin() + static_cast<ptrdiff_t>(n));
      room.waiting.erase(room.waiting.begin(), room.waiting.begin() + static_cast<ptrdiff_t>(n));
    }
    {
      // Also if the batch throws (a body's JSON, an allocation): its writes are answered and the
      // room's turn passes on, or every later write of the room would wait forever.
      bool ran = false;
      absl::Cleanup finish = [&] {
        absl::MutexLock lock(&mu_);
        for (Write* w : batch) {
          if (!ran) w->result = absl::InternalError("the room's write batch was abandoned");
          w->done = true;
        }
        auto room = rooms_.find(room_id);
        room->second.writing = false;
        if (room->second.waiting.empty()) rooms_.erase(room);
      };
      run_batch(room_id, batch);
      ran = true;
    }
    return me.result;
  }

  // Writes of the room waiting for their turn (for tests).
  size_t Waiting(absl::string_view room_id) {
    absl::MutexLock lock(&mu_);
    auto room = rooms_.find(room_id);
    return room == rooms_.end() ? 0 : room->second.waiting.size();
  }

 private:
  struct Room {
    std::deque<Write*> waiting;
    bool writing = false;
  };
  const size_t max_batch_;
  absl::Mutex mu_;
  absl::node_hash_map<std::string, Room> rooms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::roomserver
