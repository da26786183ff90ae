// Client-server API: POST /join/{roomIdOrAlias}, POST /rooms/{roomId}/{join,leave,invite,kick,
// ban,unban} (spec "Room membership").

#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/routes/client/remote_alias.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {
namespace {

using roomserver_v1::MembershipAction;

struct ActionRoute {
  const char* path;
  MembershipAction action;
  // The body names a target user ("user_id").
  bool needs_target;
  // The response carries {"room_id"} (joins) rather than {}.
  bool returns_room;
};

constexpr ActionRoute kActions[] = {
    {"/join/{room}", roomserver_v1::MEMBERSHIP_ACTION_JOIN, false, true},
    {"/rooms/{room}/join", roomserver_v1::MEMBERSHIP_ACTION_JOIN, false, true},
    {"/rooms/{room}/leave", roomserver_v1::MEMBERSHIP_ACTION_LEAVE, false, false},
    {"/rooms/{room}/invite", roomserver_v1::MEMBERSHIP_ACTION_INVITE, true, false},
    {"/rooms/{room}/kick", roomserver_v1::MEMBERSHIP_ACTION_KICK, true, false},
    {"/rooms/{room}/ban", roomserver_v1::MEMBERSHIP_ACTION_BAN, true, false},
    {"/rooms/{room}/unban", roomserver_v1::MEMBERSHIP_ACTION_UNBAN, true, false},
};

absl::StatusOr<roomserver_v1::PerformMembershipRequest> ParseMembership(
    const ActionRoute& route, const RouteRequest& request, const userapi::v1::Device& device) {
  PERISCOPE_ASSIGN_OR_RETURN(Json body, ParseOptionalJsonObject(request.http.body));
  roomserver_v1::PerformMembershipRequest out;
  out.set_sender(device.user_id());
  out.set_room_id_or_alias(request.params.at("room"));
  out.set_action(route.action);
  // Servers to join a remote room through: ?server_name= (and its newer name, ?via=).
  for (const char* param : {"server_name", "via"}) {
    for (const std::string& server : request.http.QueryParams(param)) out.add_server_names(server);
  }
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> reason, OptionalString(body, "reason"));
  out.set_reason(reason.value_or(""));
  if (route.needs_target) {
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> user, OptionalString(body, "user_id"));
    if (!user) {
      return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kMissingParam,
                         "user_id is required");
    }
    out.set_target_user_id(*user);
  }
  return out;
}

}  // namespace

void AddMembershipRoutes(Router& router, ClientRouteDeps& deps) {
  for (const ActionRoute& route : kActions) {
    router.Add(
        "POST", absl::StrCat(kClientPrefix, route.path),
        WithAuth(deps.auth, [&deps, &route](RouteRequest request, userapi::v1::Device device,
                                            Responder respond) {
          absl::StatusOr<roomserver_v1::PerformMembershipRequest> change =
              ParseMembership(route, request, device);
          if (!change.ok()) return respond(StatusResponse(change.status()));
          auto perform = [&deps, &route, respond](roomserver_v1::PerformMembershipRequest change) {
            deps.roomserver->PerformMembership(
                change,
                [respond, &route](absl::StatusOr<roomserver_v1::PerformMembershipResponse> r) {
                  if (!r.ok()) return respond(StatusResponse(r.status()));
                  respond(JsonResponse(
                      200, route.returns_room ? Json{{"room_id", r->room_id()}} : Json::object()));
                });
          };
          if (route.action != roomserver_v1::MEMBERSHIP_ACTION_JOIN) return perform(*change);
          // A join carries the joiner's display name and avatar, as clients expect.
          auto with_profile = [&deps, perform, user_id = device.user_id()](
                                  roomserver_v1::PerformMembershipRequest change) {
            userapi::v1::QueryProfileRequest profile;
            profile.set_user_id(user_id);
            deps.userapi.QueryProfile(
                profile, [perform, change = std::move(change)](
                             absl::StatusOr<userapi::v1::QueryProfileResponse> p) mutable {
                  if (p.ok()) change.set_content_json(ProfileMemberContent(*p));
                  perform(std::move(change));
                });
          };
          // An alias of another server: its server says which room, and who can be asked.
          ResolveRemoteAlias(
              deps, change->room_id_or_alias(),
              [respond, with_profile, change = *change](absl::StatusOr<ResolvedRoom> room) mutable {
                if (!room.ok()) return respond(StatusResponse(room.status()));
                change.set_room_id_or_alias(room->room_id);
                for (const std::string& server : room->servers) change.add_server_names(server);
                with_profile(std::move(change));
              });
        }));
  }
}

}  // namespace periscope::gateway
