#pragma once
// Our peeks into other servers' rooms (MSC2444), once the federationapi has started one: a thread
// renews each at half its interval (POST .../renew) while local devices peek the room, and ends it
// (DELETE) when none does any more: the last device unpeeked, its peek expired because it stopped
// syncing (syncapi retires it), or its user joined. Who still looks comes from the output stream
// (new_peek / retire_peek, kept by the consumer), so it holds across restarts.
// A peek the peeked server ended (404 to a renewal, or expired_peeks in its /send) is forgotten,
// and if it was the room's last, the room's local peeks are retired (the room leaves the devices'
// /sync peek section). Time comes from the injected clock.

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "internal/federationsender/storage/queue_store.h"
#include "pkg/clock/clock.h"
#include "pkg/federation/federation_client.h"

namespace periscope::federationsender {

class OutboundPeeks {
 public:
  // Ends the local peeks of a room whose outbound peeks all ended (roomserver PerformUnpeek).
  using RetireLocalPeeks = std::function<absl::Status(
      const std::string& room_id, const std::vector<std::pair<std::string, std::string>>& peekers)>;
  struct Counters {
    // Per renewal: "ok", "failed" (kept, tried again) or "ended" (the server no longer has it).
    std::function<void(absl::string_view outcome)> on_renewal;
    // Per sweep: the live outbound peeks.
    std::function<void(int64_t)> on_count;
    // expired_peeks received.
    std::function<void()> on_expired_received;
  };
  // A server that did not answer a renewal or a DELETE is asked again after this, doubled per
  // failure in a row up to kMaxBackoff.
  static constexpr absl::Duration kFirstBackoff = absl::Seconds(2);
  static constexpr absl::Duration kMaxBackoff = absl::Minutes(5);
  // A peek no local device's new_peek has come for since it was recorded is kept this long
  // without local peekers: the device's new_peek follows the federated peek through the stream,
  // which may lag. (Once one came, the last device's going ends the peek at once.)
  static constexpr absl::Duration kGrace = absl::Minutes(5);

  OutboundPeeks(QueueStore& store, federation::FederationCaller& federation, const Clock& clock,
                RetireLocalPeeks retire, Counters counters = {},
                absl::Duration poll = absl::Seconds(1))
      : store_(store),
        federation_(federation),
        clock_(clock),
        retire_(std::move(retire)),
        counters_(std::move(counters)),
        poll_(poll) {}
  ~OutboundPeeks();  // stops and joins
  void Start();

  absl::Status Record(const std::string& room_id, const std::string& server_name,
                      const std::string& peek_id, int64_t renewal_interval_ms);
  // NOT_FOUND if we hold no such peek.
  absl::Status EndedByServer(const std::string& room_id, const std::string& server_name,
                             const std::string& peek_id);
  // DELETEs every peek of the room now (an operator's or a tool's call).
  absl::Status Unpeek(const std::string& room_id);
  // The room's local peekers changed: look at its peeks now rather than at the next poll.
  void Check(const std::string& room_id);

  // One pass over every peek (the thread's work; tests call it directly).
  void Sweep();

 private:
  // Ends the peek with a DELETE; true if it is over (answered, or unknown there).
  bool Delete(const OutboundPeekRecord& peek);
  void Renew(const OutboundPeekRecord& peek);
  // The peek is gone: forgotten, and the local peeks retired if it was the room's last.
  absl::Status Forget(const OutboundPeekRecord& peek);
  void Loop();

  QueueStore& store_;
  federation::FederationCaller& federation_;
  const Clock& clock_;
  RetireLocalPeeks retire_;
  Counters counters_;
  const absl::Duration poll_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool check_now_ ABSL_GUARDED_BY(mu_) = false;
  // Per peeked server that did not answer: failures in a row, and when it may next be asked. Kept
  // in memory (a restart asks at once); a sweep skips the server's peeks until then, so a dead
  // server is neither hammered every poll nor holds the sweep up for each of its peeks.
  struct ServerBackoff {
    int failures = 0;
    absl::Time retry_at;
  };
  absl::Mutex backoff_mu_;
  std::map<std::string, ServerBackoff> backoff_ ABSL_GUARDED_BY(backoff_mu_);
  bool InBackoff(const std::string& server);
  void Answered(const std::string& server, bool answered);
  std::thread thread_;
};

}  // namespace periscope::federationsender
