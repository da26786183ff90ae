#pragma once
// The peeking side of MSC2444, for local devices peeking a room this server does not know:
//  1. PUT /_matrix/federation/v1/peek/{roomId}/{peekId}?ver=4..12 on each candidate server in
//     turn (the given servers, then the room id's own) with a fresh 8-character peek id, until
//     one accepts; a 403 or 400 is the room's answer, an unreachable or unknowing server is
//     skipped;
//  2. the answer, in either shape (MSC2444-final: latest_event_state_ids, common_state_ids,
//     events; Dendrite's: state, auth_chain, latest_event, room_version), becomes a state and its
//     auth chain, checked like send_join's (format, signatures, content hashes, the create event
//     naming the room's version) and input as outliers, then the latest event with that state;
//  3. the federationsender records the peek, renews it and ends it.
// The state the answer gives is the state after the latest event; it is input as the state
// before it, less the latest event's own key (the MSC leaves before/after open; for a message,
// the usual latest event, the two are the same).
// Events the peeked server relays while this is under way are parked like those during a join
// (rooms_being_joined.h) and processed once the state is in.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/inbound/rooms_being_joined.h"
#include "internal/federationapi/keyring/keyring.h"
#include "internal/federationapi/outbound/peek_recorder.h"
#include "periscope/federationapi/v1/federationapi.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/federation/federation_client.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::federationapi {

class RoomPeeker {
 public:
  // Hands parked PDUs over to be processed in order (ParkedPduWorker::Submit); `after` (may be
  // null) runs once they were.
  using ParkedProcessor =
      std::function<void(std::vector<RoomsBeingJoined::Parked>, std::function<void()> after)>;
  RoomPeeker(std::string our_server_name, federation::FederationCaller& federation,
             Keyring& keyring, RoomInput& rooms, PeekRecorder& recorder,
             RoomsBeingJoined* being_joined = nullptr, ParkedProcessor process_parked = nullptr)
      : our_server_name_(std::move(our_server_name)),
        federation_(federation),
        keyring_(keyring),
        rooms_(rooms),
        recorder_(recorder),
        being_joined_(being_joined),
        process_parked_(std::move(process_parked)) {}

  // A live peek of the room (another local device's) is shared: nothing is sent; so is a peek of
  // it under way (one PUT, and one snapshot taken in, for devices peeking at once).
  // NOT_FOUND when no server could be asked or none knows the room; a refusal (403, 400) as it
  // came; UNAVAILABLE when no server answered or an answer could not be used.
  absl::StatusOr<v1::PerformOutboundPeekResponse> Peek(
      const v1::PerformOutboundPeekRequest& request);

  // An answer, in either shape, as a state (after `latest`), the rest of its events, the latest
  // event and the room version (for tests).
  struct Snapshot {
    int room_version = 0;
    matrix::Json latest;
    matrix::Json state = matrix::Json::array();
    matrix::Json chain = matrix::Json::array();
    int64_t renewal_interval_ms = 0;
  };
  static absl::StatusOr<Snapshot> ParseAnswer(const matrix::Json& answer,
                                              const std::string& server);

  static constexpr size_t kMaxCandidates = 5;
  // Rounds of parked PDUs processed before parking stops (more keep coming while a busy room's
  // events are being placed; the last ones then go the usual way).
  static constexpr int kMaxParkedRounds = 20;
  // A peek of a room waits this long for one of it already under way (the caller's own deadline,
  // the roomserver's, is 120 s).
  static constexpr absl::Duration kWaitForOtherPeek = absl::Seconds(110);
  // The servers asked in turn share this (each at most 60 s), the rest of the caller's 120 s
  // being for taking the answer in: past it, the ones left are not asked.
  static constexpr absl::Duration kPeekBudget = absl::Seconds(90);

  // Budgets are counted on `clock` (the system's by default).
  void set_clock(const Clock& clock) { clock_ = &clock; }

 private:
  struct Attempt {
    absl::Notification done;
    absl::StatusOr<v1::PerformOutboundPeekResponse> result = absl::UnknownError("under way");
  };
  absl::StatusOr<v1::PerformOutboundPeekResponse> PeekNow(
      const v1::PerformOutboundPeekRequest& request);
  // Once the peek is in: the PDUs parked meanwhile are processed round by round, in order, while
  // parking goes on (one placed at once, ahead of them, would find its prev events missing);
  // parking stops when a round finds none (or after kMaxParkedRounds).
  void DrainParked(const std::string& room_id, int round);
  absl::StatusOr<v1::PerformOutboundPeekResponse> PeekThrough(const std::string& room_id,
                                                              const std::string& server,
                                                              absl::Duration timeout);
  absl::Status TakeIn(const std::string& room_id, const std::string& server,
                      const Snapshot& snapshot);

  const std::string our_server_name_;
  federation::FederationCaller& federation_;
  Keyring& keyring_;
  RoomInput& rooms_;
  PeekRecorder& recorder_;
  RoomsBeingJoined* being_joined_;
  ParkedProcessor process_parked_;
  const Clock* clock_ = &SystemClock::Get();
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Attempt>> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::federationapi
