#include "internal/gateway/routes/client/remote_alias.h"

#include <utility>

namespace periscope::gateway {
namespace {

// True if `room` is an alias of another server and remote aliases can be resolved.
bool IsRemoteAlias(const std::string& room, const ClientRouteDeps& deps) {
  if (room.empty() || room[0] != '#' || deps.federationsender == nullptr) return false;
  size_t colon = room.find(':');
  return colon != std::string::npos && room.substr(colon + 1) != deps.server_name;
}

}  // namespace

void ResolveRemoteAlias(ClientRouteDeps& deps, const std::string& room_id_or_alias,
                        std::function<void(absl::StatusOr<ResolvedRoom>)> then) {
  if (!IsRemoteAlias(room_id_or_alias, deps)) return then(ResolvedRoom{room_id_or_alias, {}});
  federationsender_v1::QueryRemoteAliasRequest query;
  query.set_alias(room_id_or_alias);
  deps.federationsender->QueryRemoteAlias(
      query,
      [then = std::move(then)](absl::StatusOr<federationsender_v1::QueryRemoteAliasResponse> r) {
        if (!r.ok()) return then(r.status());
        ResolvedRoom room{r->room_id(), {r->servers().begin(), r->servers().end()}};
        then(std::move(room));
      });
}

}  // namespace periscope::gateway
