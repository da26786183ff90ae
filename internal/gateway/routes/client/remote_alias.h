#pragma once
// A room alias of another server, resolved over federation (GET /query/directory) before a join
// or a peek: the roomserver only knows this server's aliases.

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "internal/gateway/routes/client/client_routes.h"

namespace periscope::gateway {

// What an alias resolved to: the room id, and the servers to ask (the alias's own server first).
struct ResolvedRoom {
  std::string room_id;
  std::vector<std::string> servers;
};

// Calls `then` with the room `room_id_or_alias` names. A room id, or an alias of this server (or
// any alias when remote aliases cannot be resolved), is passed on unchanged with no servers;
// another server's alias is asked of that server, and its refusal (404, 502) is passed on.
void ResolveRemoteAlias(ClientRouteDeps& deps, const std::string& room_id_or_alias,
                        std::function<void(absl::StatusOr<ResolvedRoom>)> then);

}  // namespace periscope::gateway
