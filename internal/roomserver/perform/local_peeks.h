#pragma once
// Local peeks (MSC2753) as the roomserver keeps them: which local devices are looking into which
// room. A peek starts, is renewed and ends inside the room's write transaction, and its
// new_peek / retire_peek message enters the output stream in order with the room's events, so a
// consumer can never see a peek and the events after it out of order.
//
// The roomserver does not expire peeks itself: syncapi knows whether the device still syncs and
// calls PerformUnpeek (reason expired). So the roomserver always knows the live local peekers of
// each room, which federated peeking builds on.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "internal/roomserver/perform/remote_membership.h"
#include "internal/roomserver/storage/room_store.h"
#include "periscope/roomserver/v1/roomserver.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::roomserver {

class LocalPeeks {
 public:
  // `remote` (may be null: no federation) peeks rooms of other servers.
  LocalPeeks(RoomStore& store, const Clock& clock, std::string server_name, absl::Duration lifetime,
             RemoteMembership* remote = nullptr)
      : store_(store),
        clock_(clock),
        server_name_(std::move(server_name)),
        lifetime_(lifetime),
        remote_(remote) {}

  // Starts or renews a device's peek. A room this server does not know is peeked over federation
  // first (MSC2444, through request.server_names and the room id's server): its state is then
  // here, and the peek goes on as for a local room; the remote server's refusal is the answer.
  // 404 M_NOT_FOUND for an unknown room or alias, 403 M_FORBIDDEN unless the room is
  // world_readable and unencrypted, 400 M_BAD_STATE if the user is joined.
  absl::StatusOr<v1::PerformPeekResponse> Peek(const v1::PerformPeekRequest& request);
  // Ends a device's peek; 400 M_BAD_STATE if it has none.
  absl::Status Unpeek(const v1::PerformUnpeekRequest& request);
  // Whether a peek of the room goes over federation first: the room is unknown, or known without
  // state (an invite), or another server's room none of our users is in (what we hold of it may
  // be stale, and only a federated peek relays its events to us).
  absl::StatusOr<bool> PeekOverFederation(const std::string& room_id);
  // The room's live local peekers.
  absl::StatusOr<v1::QueryLocalPeekersResponse> Peekers(
      const v1::QueryLocalPeekersRequest& request);

 private:
  RoomStore& store_;
  const Clock& clock_;
  const std::string server_name_;
  const absl::Duration lifetime_;
  RemoteMembership* remote_;
};

// Why a room cannot be peeked into now (403 M_FORBIDDEN unless its history is world_readable and
// it is unencrypted), or OK. `state` holds the room's history visibility and encryption events.
absl::Status CheckPeekable(const matrix::AuthEvents& state);

// Called for every event the roomserver accepts, in its write transaction, after the event's own
// output message: a join ends the joiner's peeks (reason joined), and an event that makes the room
// unpeekable (history visibility other than world_readable, or encryption) ends all of them
// (reason not_peekable).
absl::Status RetirePeeksAfterEvent(RoomWriteTxn& txn, const std::string& room_id,
                                   const AcceptedEvent& event, const matrix::Json& content);

}  // namespace periscope::roomserver
