#pragma once
// The peeked side of MSC2444: PUT, POST .../renew and DELETE of
// /_matrix/federation/v1/peek/{roomId}/{peekId}, for an authenticated origin.
//
// PUT checks, in order: the peek id ([0-9a-zA-Z.=_-]{1,8}, or Dendrite's room id; 400
// M_UNRECOGNIZED), the origin's rate (429 M_LIMIT_EXCEEDED with retry_after_ms), the room (404
// M_NOT_FOUND), the server ACL (403), the origin's cap on live peeks (429), then the roomserver's
// own: ?ver= (400 M_INCOMPATIBLE_ROOM_VERSION), world_readable and unencrypted (403). The
// roomserver takes the snapshot where new_inbound_peek enters the room's stream; the answer
// waits (briefly) until the federationsender has registered the peek, so a renewal or DELETE
// right after it finds the peek; a renewal of a peek not yet registered waits for it as well. A
// PUT of a live peek renews it and answers the snapshot again.
//
// The answer has both shapes: MSC2444-final (latest_event_state_ids, common_state_ids, events,
// renewal_interval) and Dendrite's (state, auth_chain, latest_event, room_version), every event as
// stored and signed, with its auth chain.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "internal/federationapi/inbound/inbound_peek_registry.h"
#include "internal/federationapi/inbound/room_input.h"
#include "internal/federationapi/reads/federation_reads.h"
#include "internal/federationapi/reads/room_reads.h"
#include "pkg/clock/clock.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/ratelimit/rate_limiter.h"

namespace periscope::federationapi {

struct InboundPeekOptions {
  absl::Duration renewal_interval = absl::Hours(1);
  int max_peeks_per_server = 100;
  int rate_limit_burst = 20;
  int rate_limit_per_second = 2;
  // How long a PUT's answer waits for the federationsender to register the peek.
  absl::Duration registration_wait = absl::Seconds(2);
};

// Called once per request: `request` is peek, renew or unpeek; `outcome` ok, bad_request,
// not_found, forbidden, rate_limited or error.
using PeekRequestCounter =
    std::function<void(absl::string_view request, absl::string_view outcome)>;

class InboundPeekHandler {
 public:
  InboundPeekHandler(RoomInput& rooms, RoomReads& room_reads, FederationReads& reads,
                     InboundPeekRegistry& registry, const Clock& clock, InboundPeekOptions options,
                     PeekRequestCounter counter = nullptr);

  absl::StatusOr<matrix::Json> Peek(const std::string& origin, const std::string& room_id,
                                    const std::string& peek_id,
                                    const std::vector<std::string>& supported_versions);
  // {"renewal_interval": ms}
  absl::StatusOr<matrix::Json> Renew(const std::string& origin, const std::string& room_id,
                                     const std::string& peek_id);
  // {}
  absl::StatusOr<matrix::Json> Unpeek(const std::string& origin, const std::string& room_id,
                                      const std::string& peek_id);

 private:
  absl::StatusOr<matrix::Json> StartPeek(const std::string& origin, const std::string& room_id,
                                         const std::string& peek_id,
                                         const std::vector<std::string>& supported_versions);
  // The JSON answer of a snapshot.
  absl::StatusOr<matrix::Json> Answer(const std::string& room_id,
                                      const roomserver::v1::PerformInboundPeekResponse& snapshot);
  void Count(absl::string_view request, const absl::Status& status);
  // Polls the registry for up to options_.registration_wait until the peek is live (with this
  // snapshot's latest event, unless `latest_event_id` is empty). False if it never was.
  bool WaitForRegistration(const std::string& room_id, const std::string& origin,
                           const std::string& peek_id, const std::string& latest_event_id);

  RoomInput& rooms_;
  RoomReads& room_reads_;
  FederationReads& reads_;
  InboundPeekRegistry& registry_;
  const InboundPeekOptions options_;
  ratelimit::RateLimiter limiter_;
  PeekRequestCounter counter_;
};

}  // namespace periscope::federationapi
