#pragma once
// Client-server API routes. One file per endpoint group; each Add*Routes registers its endpoints
// under both the r0 and v3 prefixes.

#include <optional>
#include <string>

#include "internal/gateway/auth/authenticator.h"
#include "internal/gateway/auth/logout_fanout.h"
#include "internal/gateway/router.h"
#include "internal/gateway/upstream/federation_sender_client.h"
#include "internal/gateway/upstream/roomserver_client.h"
#include "internal/gateway/upstream/sync_api_client.h"
#include "internal/gateway/upstream/user_api_client.h"
#include "pkg/ratelimit/rate_limiter.h"

namespace periscope::gateway {

using ratelimit::RateLimiter;

struct ClientRouteDeps {
  UserApiClient& userapi;
  Authenticator& auth;
  // Where revoked devices are announced (never null).
  LogoutFanout* logouts;
  std::string server_name;
  // The room routes are served only when set.
  RoomserverClient* roomserver = nullptr;
  // GET /sync is served only when set.
  SyncApiClient* syncapi = nullptr;
  // Asks other servers (remote profiles); null: remote users are not found.
  FederationSenderClient* federationsender = nullptr;
  // Limits POST /peek per device; null: no limit.
  RateLimiter* peek_limiter = nullptr;
  // Limit POST /login and /register per client address, and /login per user; null: no limit.
  RateLimiter* auth_by_address = nullptr;
  RateLimiter* auth_by_user = nullptr;
};

// 429 with retry_after_ms if a login or registration from `address` (or, for a login, as
// `user`) comes too often; nullopt to go on. An empty key is not checked.
std::optional<HttpResponse> AuthRateLimited(ClientRouteDeps& deps, const std::string& address,
                                            const std::string& user);

// GET /_matrix/client/versions
void AddVersionsRoutes(Router& router);
// POST /register, GET /register/available
void AddRegisterRoutes(Router& router, ClientRouteDeps& deps);
// GET/POST /login
void AddLoginRoutes(Router& router, ClientRouteDeps& deps);
// GET /account/whoami, POST /logout, POST /logout/all
void AddAccountRoutes(Router& router, ClientRouteDeps& deps);

// POST /createRoom, PUT /rooms/{roomId}/send|state|redact/...
void AddRoomRoutes(Router& router, ClientRouteDeps& deps);
// POST /join/{roomIdOrAlias}, POST /rooms/{roomId}/join|leave|invite|kick|ban|unban
void AddMembershipRoutes(Router& router, ClientRouteDeps& deps);

// GET /joined_rooms, GET /rooms/{roomId}/state[/...], /members, /joined_members, /event/{id}
void AddRoomReadRoutes(Router& router, ClientRouteDeps& deps);
// PUT/GET/DELETE /directory/room/{alias}, GET/PUT /directory/list/room/{roomId}, /publicRooms
void AddDirectoryRoutes(Router& router, ClientRouteDeps& deps);
// GET /profile/{userId}, GET/PUT /profile/{userId}/displayname|avatar_url
void AddProfileRoutes(Router& router, ClientRouteDeps& deps);
// The displayname and avatar_url of a profile as member event content (a join carries them).
std::string ProfileMemberContent(const userapi::v1::QueryProfileResponse& profile);
// GET /sync, GET /rooms/{roomId}/messages, GET /rooms/{roomId}/context/{eventId}
void AddSyncRoutes(Router& router, ClientRouteDeps& deps);
// POST /peek/{roomIdOrAlias}, POST /rooms/{roomId}/unpeek (MSC2753; also under its unstable prefix)
void AddPeekRoutes(Router& router, ClientRouteDeps& deps);
// GET/PUT /user/{userId}[/rooms/{roomId}]/account_data/{type}, GET .../rooms/{roomId}/tags,
// PUT/DELETE .../tags/{tag} (needs syncapi)
void AddAccountDataRoutes(Router& router, ClientRouteDeps& deps);
// GET/PUT /presence/{userId}/status (presence is not tracked: accepted, reads "offline")
void AddPresenceRoutes(Router& router, ClientRouteDeps& deps);
// GET /capabilities, /pushrules/, /voip/turnServer, /room_keys/version
void AddClientConfigRoutes(Router& router, ClientRouteDeps& deps);
// POST /user/{userId}/filter, GET /user/{userId}/filter/{filterId}
void AddFilterRoutes(Router& router, ClientRouteDeps& deps);
// The filter JSON a filter id stands for (404 M_NOT_FOUND if it is not one of ours).
absl::StatusOr<std::string> FilterJsonFromId(absl::string_view filter_id);

// Runs `handler` with the authenticated device, or answers 401 (M_MISSING_TOKEN/M_UNKNOWN_TOKEN).
using AuthedHandler =
    std::function<void(RouteRequest request, userapi::v1::Device device, Responder respond)>;
RouteHandler WithAuth(Authenticator& auth, AuthedHandler handler);

inline constexpr char kClientPrefix[] = "/_matrix/client/{version:r0|v3}";

}  // namespace periscope::gateway
