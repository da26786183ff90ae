// Client-server API: GET /sync (spec "Syncing"), GET /rooms/{roomId}/messages and
// GET /rooms/{roomId}/context/{eventId}. The gateway turns
// query parameters into a SyncRequest and syncapi's typed answer into the JSON body; the wait
// happens in syncapi.

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "internal/gateway/matrix_json.h"
#include "internal/gateway/routes/client/client_routes.h"
#include "internal/gateway/routes/client/sync_body.h"
#include "internal/gateway/status_mapping.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::gateway {
namespace {

absl::Status InvalidParam(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam, message);
}

absl::StatusOr<syncapi_v1::SyncRequest> ParseSyncQuery(const HttpRequest& http,
                                                       const userapi::v1::Device& device) {
  syncapi_v1::SyncRequest request;
  request.set_user_id(device.user_id());
  request.set_device_id(device.device_id());
  if (const std::string* since = http.QueryParam("since")) request.set_since(*since);
  if (const std::string* timeout = http.QueryParam("timeout")) {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(*timeout, &ms) || ms < 0) {
      return InvalidParam("timeout must be a non-negative integer (milliseconds)");
    }
    request.set_timeout_ms(ms);
  }
  if (const std::string* full_state = http.QueryParam("full_state")) {
    if (*full_state != "true" && *full_state != "false") {
      return InvalidParam("full_state must be true or false");
    }
    request.set_full_state(*full_state == "true");
  }
  if (const std::string* filter = http.QueryParam("filter")) {
    // An inline filter is JSON (it starts with "{"); anything else names a stored filter.
    if (!filter->empty() && (*filter)[0] == '{') {
      request.set_filter_json(*filter);
    } else {
      absl::StatusOr<std::string> json = FilterJsonFromId(*filter);
      if (!json.ok()) return InvalidParam(absl::StrCat("unknown filter id \"", *filter, "\""));
      request.set_filter_id(*filter);
      request.set_filter_json(*json);
    }
  }
  if (const std::string* presence = http.QueryParam("set_presence")) {
    if (*presence != "online" && *presence != "offline" && *presence != "unavailable") {
      return InvalidParam("set_presence must be online, offline or unavailable");
    }
    request.set_set_presence(*presence);
  }
  return request;
}

Json EventsArray(const google::protobuf::RepeatedPtrField<std::string>& events) {
  Json out = Json::array();
  for (const std::string& event : events) out.push_back(Json::parse(event));
  return out;
}

absl::StatusOr<syncapi_v1::QueryMessagesRequest> ParseMessagesQuery(
    const RouteRequest& request, const userapi::v1::Device& device) {
  syncapi_v1::QueryMessagesRequest query;
  query.set_user_id(device.user_id());
  query.set_room_id(request.params.at("roomId"));
  if (const std::string* from = request.http.QueryParam("from")) query.set_from(*from);
  if (const std::string* to = request.http.QueryParam("to")) query.set_to(*to);
  if (const std::string* dir = request.http.QueryParam("dir")) query.set_dir(*dir);
  if (const std::string* limit = request.http.QueryParam("limit")) {
    int value = 0;
    if (!absl::SimpleAtoi(*limit, &value) || value < 0) {
      return InvalidParam("limit must be a non-negative integer");
    }
    query.set_limit(value);
  }
  if (const std::string* filter = request.http.QueryParam("filter")) {
    absl::StatusOr<matrix::Json> json = matrix::ParseJson(*filter);
    if (!json.ok() || !json->is_object()) return InvalidParam("filter must be a JSON object");
    query.set_filter_json(*filter);
  }
  return query;
}

}  // namespace

void AddSyncRoutes(Router& router, ClientRouteDeps& deps) {
  router.Add(
      "GET", absl::StrCat(kClientPrefix, "/rooms/{roomId}/context/{eventId}"),
      WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                  Responder respond) {
        syncapi_v1::QueryContextRequest query;
        query.set_user_id(device.user_id());
        query.set_room_id(request.params.at("roomId"));
        query.set_event_id(request.params.at("eventId"));
        if (const std::string* limit = request.http.QueryParam("limit")) {
          int value = 0;
          if (!absl::SimpleAtoi(*limit, &value) || value < 0) {
            return respond(StatusResponse(InvalidParam("limit must be a non-negative integer")));
          }
          query.set_limit(value);
        }
        deps.syncapi->QueryContext(query, [respond](
                                              absl::StatusOr<syncapi_v1::QueryContextResponse> r) {
          if (!r.ok()) return respond(StatusResponse(r.status()));
          respond(JsonResponse(200, Json{{"event", Json::parse(r->event_json())},
                                         {"events_before", EventsArray(r->events_before_json())},
                                         {"events_after", EventsArray(r->events_after_json())},
                                         {"start", r->start()},
                                         {"end", r->end()},
                                         {"state", EventsArray(r->state_json())}}));
        });
      }));
  router.Add("GET", absl::StrCat(kClientPrefix, "/rooms/{roomId}/messages"),
             WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                         Responder respond) {
               absl::StatusOr<syncapi_v1::QueryMessagesRequest> query =
                   ParseMessagesQuery(request, device);
               if (!query.ok()) return respond(StatusResponse(query.status()));
               deps.syncapi->QueryMessages(
                   *query, [respond](absl::StatusOr<syncapi_v1::QueryMessagesResponse> r) {
                     if (!r.ok()) return respond(StatusResponse(r.status()));
                     Json body = {{"chunk", EventsArray(r->chunk_json())}, {"start", r->start()}};
                     if (!r->end().empty()) body["end"] = r->end();
                     if (r->state_json_size() > 0) body["state"] = EventsArray(r->state_json());
                     respond(JsonResponse(200, body));
                   });
             }));

  router.Add("GET", absl::StrCat(kClientPrefix, "/sync"),
             WithAuth(deps.auth, [&deps](RouteRequest request, userapi::v1::Device device,
                                         Responder respond) {
               absl::StatusOr<syncapi_v1::SyncRequest> sync = ParseSyncQuery(request.http, device);
               if (!sync.ok()) return respond(StatusResponse(sync.status()));
               // A client that hangs up cancels the long-poll parked in syncapi.
               deps.syncapi->Sync(
                   *sync,
                   [respond](absl::StatusOr<syncapi_v1::SyncResponse> r) {
                     if (!r.ok()) return respond(StatusResponse(r.status()));
                     respond(HttpResponse{.status = 200, .body = SyncBody(*r)});
                   },
                   request.http.cancellation);
             }));
}

}  // namespace periscope::gateway
