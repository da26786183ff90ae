#pragma once
// The joining side of joining a room over federation (server-server spec "Joining Rooms"), for a
// local user's /join of a room this server is not in (and, the same way through make_leave and
// send_leave, a local user's leave of such a room: rejecting an invite from another server):
//  1. make_join on each candidate server in turn (the given servers, then the room id's own)
//     until one gives a template; a 403 or 400 answer is final, an unreachable or unknowing
//     server is skipped;
//  2. the template, checked to be the user's join into that room, gets our origin, a timestamp
//     and the user's content, is hashed and signed;
//  3. send_join (v2) to the same server; its answer (the state before the join and the auth
//     chain) goes through the same checks as any received PDU (format, signatures, content
//     hash), and events of other rooms or failing them are dropped;
//  4. the roomserver takes it in: the room is created with its version, the auth chain and state
//     as outliers (auth events first), then the join with that state.
// The join event reaches the room's other servers through the resident's relay. Events other
// servers send into the room while the join is under way are parked (rooms_being_joined.h) and,
// once it is in, handed over to be processed (ParkedPduWorker), not on the client's time.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/inbound/rooms_being_joined.h"
#include "internal/federationapi/keyring/keyring.h"
#include "periscope/federationapi/v1/federationapi.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/federation/federation_client.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/signing_key.h"

namespace periscope::federationapi {

class RoomJoiner {
 public:
  // Takes the PDUs parked while a join was under way, to process them (ParkedPduWorker::Submit).
  using ParkedProcessor = std::function<void(std::vector<RoomsBeingJoined::Parked>)>;

  // `being_joined` and `process_parked` may be null together (then nothing is parked).
  RoomJoiner(std::string our_server_name, const matrix::SigningKey& key, const Clock& clock,
             federation::FederationCaller& federation, Keyring& keyring, RoomInput& rooms,
             RoomsBeingJoined* being_joined = nullptr, ParkedProcessor process_parked = nullptr)
      : our_server_name_(std::move(our_server_name)),
        key_(key),
        clock_(clock),
        federation_(federation),
        keyring_(keyring),
        rooms_(rooms),
        being_joined_(being_joined),
        process_parked_(std::move(process_parked)) {}

  // The join event's id. NOT_FOUND (M_NOT_FOUND) when no server could be asked or none knows
  // the room; the remote refusal (403, 400) as it came; UNAVAILABLE when no server answered;
  // DEADLINE_EXCEEDED when kBudget ran out. A second Join of the same user into the same room
  // while one is under way waits for it and gives its outcome.
  absl::StatusOr<std::string> Join(const v1::PerformJoinRequest& request);
  // A local user's leave of a room this server is not in (rejecting an invite received over
  // federation): make_leave and send_leave (v2) through the candidates, then the leave is recorded
  // as an out-of-band membership. Errors as for Join.
  absl::StatusOr<std::string> Leave(const v1::PerformLeaveRequest& request);

  // At most this many servers are asked (each make_join may wait 30 s).
  static constexpr size_t kMaxCandidates = 5;
  // A join (or leave) is over within this, under the roomserver's wait for it (120 s): a join
  // finishing after its caller gave up is one the client retries into a second join.
  static constexpr absl::Duration kBudget = absl::Seconds(110);
  // Another server is asked only with at least this much of the budget left.
  static constexpr absl::Duration kMinTimeToAsk = absl::Seconds(5);

 private:
  struct Template {
    std::string server;
    int room_version = 0;
    matrix::Json event;
  };
  // A membership event built from a resident's template and signed by us.
  struct Signed {
    Template made;
    matrix::Json event;
    std::string event_id;
  };
  // make_join or make_leave through the candidates, then the event built and signed: what a join
  // and a leave share.
  absl::StatusOr<Signed> MakeAndSign(
      const std::string& room_id, const std::string& user_id,
      const google::protobuf::RepeatedPtrField<std::string>& server_names,
      const std::string& content_json, const std::string& membership, absl::Time deadline);
  // The servers to ask: the given ones, then the room id's (at most kMaxCandidates).
  std::vector<std::string> Candidates(
      const std::string& room_id,
      const google::protobuf::RepeatedPtrField<std::string>& given) const;
  // make_join or make_leave (`membership`) on the candidates in turn, until `deadline`.
  absl::StatusOr<Template> MakeMembership(const std::string& room_id, const std::string& user_id,
                                          const std::vector<std::string>& servers,
                                          const std::string& membership, absl::Time deadline);
  // What is left until `deadline`, at most `cap`.
  absl::Duration Remaining(absl::Time deadline, absl::Duration cap) const;
  absl::StatusOr<std::string> JoinNow(const v1::PerformJoinRequest& request);
  // The signed membership event built from the template.
  absl::StatusOr<matrix::Json> BuildMembership(const Template& made, const std::string& room_id,
                                               const std::string& user_id,
                                               const std::string& content_json,
                                               const std::string& membership);
  // Checks the send_join answer's events and inputs them, then the join.
  absl::StatusOr<std::string> TakeIn(const Template& made, const std::string& room_id,
                                     const matrix::Json& join, const std::string& join_id,
                                     const matrix::Json& answer);

  const std::string our_server_name_;
  const matrix::SigningKey& key_;
  const Clock& clock_;
  federation::FederationCaller& federation_;
  Keyring& keyring_;
  RoomInput& rooms_;
  RoomsBeingJoined* being_joined_;
  ParkedProcessor process_parked_;

  // A join under way, which a second Join of the same (room, user) waits for.
  struct Attempt {
    absl::Notification done;
    absl::StatusOr<std::string> result;
  };
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Attempt>> in_flight_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::federationapi
