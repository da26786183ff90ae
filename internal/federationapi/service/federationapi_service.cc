#include "internal/federationapi/service/federationapi_service.h"

#include "absl/strings/str_cat.h"
#include "pkg/grpc/status_conversion.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/matrix/json_signing.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/matrix/user_id.h"
#include "pkg/metrics/build_info.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

namespace errcode = matrix::errcode;

// Notary queries name at most this many servers, and only the first few may cost a fetch
// (the others are answered from what is stored): an unauthenticated request must not be able to
// hold a thread for many slow lookups.
constexpr size_t kMaxNotaryServers = 50;
constexpr size_t kMaxNotaryFetches = 5;

grpc::Status Reply(const absl::StatusOr<matrix::Json>& body, grpc::ServerContext* context,
                   std::string* out) {
  if (!body.ok()) return grpcutil::ToGrpcStatus(body.status(), context);
  absl::StatusOr<std::string> text = matrix::EncodeCanonicalJson(*body);
  if (!text.ok()) return grpcutil::ToGrpcStatus(text.status(), context);
  *out = *std::move(text);
  return grpc::Status::OK;
}

absl::Status BadParam(absl::string_view errcode, absl::string_view why) {
  return MatrixError(absl::StatusCode::kInvalidArgument, errcode, why);
}

}  // namespace

absl::StatusOr<AuthenticatedRequest> FederationApiServiceImpl::Authenticate(
    const v1::SignedRequest& request) {
  absl::StatusOr<AuthenticatedRequest> auth = deps_.verifier->Verify(InboundRequest{
      request.method(), request.uri(),
      std::vector<std::string>(request.authorization().begin(), request.authorization().end()),
      request.content()});
  if (auth.ok() && deps_.waker != nullptr) deps_.waker->Contacted(auth->origin);
  return auth;
}

std::unique_ptr<grpc::ClientContext> FederationApiServiceImpl::UpstreamContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deps_.upstream_timeout));
  return context;
}

grpc::Status FederationApiServiceImpl::GetServerKeys(grpc::ServerContext* context,
                                                     const v1::GetServerKeysRequest*,
                                                     v1::GetServerKeysResponse* response) {
  return Reply(matrix::BuildServerKeys(deps_.server_name, *deps_.key,
                                       deps_.clock->Now() + deps_.key_validity),
               context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::GetVersion(grpc::ServerContext* context,
                                                  const v1::GetVersionRequest*,
                                                  v1::GetVersionResponse* response) {
  matrix::Json body = {
      {"server", {{"name", "Periscope"}, {"version", std::string(metrics::kPeriscopeVersion)}}}};
  return Reply(body, context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::QueryKeys(grpc::ServerContext* context,
                                                 const v1::QueryKeysRequest* request,
                                                 v1::QueryKeysResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<matrix::Json> criteria = matrix::ParseJson(request->request_json());
    if (!criteria.ok() || !criteria->is_object()) {
      return BadParam(errcode::kNotJson, "The request body is not a JSON object");
    }
    auto servers = criteria->find("server_keys");
    if (servers == criteria->end() || !servers->is_object()) {
      return BadParam(errcode::kBadJson, "server_keys must be an object");
    }
    if (servers->size() > kMaxNotaryServers) {
      return BadParam(errcode::kBadJson,
                      absl::StrCat("at most ", kMaxNotaryServers, " servers per query"));
    }
    absl::Time now = deps_.clock->Now();
    matrix::Json out = matrix::Json::array();
    size_t index = 0;
    for (const auto& [server, key_criteria] : servers->items()) {
      if (context->IsCancelled()) return absl::CancelledError("the request was cancelled");
      const bool may_fetch = index++ < kMaxNotaryFetches;
      if (!key_criteria.is_object()) {
        return BadParam(errcode::kBadJson, "each server's criteria must be an object");
      }
      // The latest minimum any key asks for; none given means "valid now".
      absl::Time minimum = now;
      for (const auto& [key_id, c] : key_criteria.items()) {
        if (c.is_object() && c.contains("minimum_valid_until_ts") &&
            c["minimum_valid_until_ts"].is_number_integer()) {
          minimum =
              std::max(minimum, absl::FromUnixMillis(c["minimum_valid_until_ts"].get<int64_t>()));
        }
      }
      absl::StatusOr<matrix::Json> doc =
          server == deps_.server_name
              ? matrix::BuildServerKeys(deps_.server_name, *deps_.key, now + deps_.key_validity)
              : deps_.keyring->KeyDocument(server, minimum, may_fetch);
      if (absl::IsNotFound(doc.status()) || absl::IsUnavailable(doc.status())) continue;
      if (!doc.ok()) return doc.status();
      if (server == deps_.server_name) {
        out.push_back(*std::move(doc));
        continue;
      }
      absl::StatusOr<matrix::Json> countersigned =
          matrix::SignJson(*std::move(doc), deps_.server_name, *deps_.key);
      if (!countersigned.ok()) return countersigned.status();
      out.push_back(*std::move(countersigned));
    }
    return matrix::Json{{"server_keys", std::move(out)}};
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::QueryDirectory(grpc::ServerContext* context,
                                                      const v1::QueryDirectoryRequest* request,
                                                      v1::QueryDirectoryResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    if (request->room_alias().empty()) {
      return BadParam(errcode::kMissingParam, "room_alias is required");
    }
    size_t colon = request->room_alias().find(':');
    if (request->room_alias()[0] != '#' || colon == std::string::npos) {
      return BadParam(errcode::kInvalidParam, "room_alias is not an alias");
    }
    if (request->room_alias().substr(colon + 1) != deps_.server_name) {
      return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                         "The alias is not on this server");
    }
    roomserver::v1::QueryAliasRequest query;
    query.set_alias(request->room_alias());
    roomserver::v1::QueryAliasResponse found;
    auto call = UpstreamContext();
    grpc::Status s = deps_.roomserver->QueryAlias(call.get(), query, &found);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, *call);
    matrix::Json servers = matrix::Json::array();
    for (const std::string& server : found.servers()) servers.push_back(server);
    if (servers.empty()) servers.push_back(deps_.server_name);
    return matrix::Json{{"room_id", found.room_id()}, {"servers", std::move(servers)}};
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::QueryProfile(grpc::ServerContext* context,
                                                    const v1::QueryProfileRequest* request,
                                                    v1::QueryProfileResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    if (request->user_id().empty()) return BadParam(errcode::kMissingParam, "user_id is required");
    const std::string& field = request->field();
    if (!field.empty() && field != "displayname" && field != "avatar_url") {
      return BadParam(errcode::kInvalidParam, "field must be displayname or avatar_url");
    }
    absl::StatusOr<matrix::UserIdParts> user = matrix::ParseUserId(request->user_id());
    if (!user.ok()) return BadParam(errcode::kInvalidParam, "user_id is not a user id");
    if (user->server_name != deps_.server_name) {
      return MatrixError(absl::StatusCode::kNotFound, errcode::kNotFound,
                         "The user is not on this server");
    }
    userapi::v1::QueryProfileRequest query;
    query.set_user_id(request->user_id());
    userapi::v1::QueryProfileResponse profile;
    auto call = UpstreamContext();
    grpc::Status s = deps_.userapi->QueryProfile(call.get(), query, &profile);
    if (!s.ok()) return grpcutil::FromGrpcStatus(s, *call);
    matrix::Json out = matrix::Json::object();
    if (profile.has_displayname() && field != "avatar_url") {
      out["displayname"] = profile.displayname();
    }
    if (profile.has_avatar_url() && field != "displayname")
      out["avatar_url"] = profile.avatar_url();
    return out;
  };
  return Reply(answer(), context, response->mutable_response_json());
}

}  // namespace periscope::federationapi

namespace periscope::federationapi {

grpc::Status FederationApiServiceImpl::SendTransaction(grpc::ServerContext* context,
                                                       const v1::SendTransactionRequest* request,
                                                       v1::SendTransactionResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.transactions->Process(auth->origin, request->txn_id(), auth->content);
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::Peek(grpc::ServerContext* context,
                                            const v1::PeekRequest* request,
                                            v1::PeekResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.peeks->Peek(
        auth->origin, request->room_id(), request->peek_id(),
        {request->supported_room_versions().begin(), request->supported_room_versions().end()});
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::RenewPeek(grpc::ServerContext* context,
                                                 const v1::RenewPeekRequest* request,
                                                 v1::RenewPeekResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.peeks->Renew(auth->origin, request->room_id(), request->peek_id());
  };
  absl::StatusOr<matrix::Json> renewed = answer();
  if (!renewed.ok()) return grpcutil::ToGrpcStatus(renewed.status(), context);
  response->set_renewal_interval_ms(renewed->value("renewal_interval", static_cast<int64_t>(0)));
  return grpc::Status::OK;
}

grpc::Status FederationApiServiceImpl::Unpeek(grpc::ServerContext* context,
                                              const v1::UnpeekRequest* request,
                                              v1::UnpeekResponse*) {
  absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
  if (!auth.ok()) return grpcutil::ToGrpcStatus(auth.status(), context);
  absl::StatusOr<matrix::Json> done =
      deps_.peeks->Unpeek(auth->origin, request->room_id(), request->peek_id());
  if (!done.ok()) return grpcutil::ToGrpcStatus(done.status(), context);
  return grpc::Status::OK;
}

grpc::Status FederationApiServiceImpl::GetEvent(grpc::ServerContext* context,
                                                const v1::GetEventRequest* request,
                                                v1::GetEventResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.reads->Event(auth->origin, request->event_id());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::GetState(grpc::ServerContext* context,
                                                const v1::GetStateRequest* request,
                                                v1::GetStateResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.reads->State(auth->origin, request->room_id(), request->event_id());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::GetStateIds(grpc::ServerContext* context,
                                                   const v1::GetStateIdsRequest* request,
                                                   v1::GetStateIdsResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.reads->StateIds(auth->origin, request->room_id(), request->event_id());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::GetEventAuth(grpc::ServerContext* context,
                                                    const v1::GetEventAuthRequest* request,
                                                    v1::GetEventAuthResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.reads->EventAuth(auth->origin, request->room_id(), request->event_id());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::GetMissingEvents(grpc::ServerContext* context,
                                                        const v1::GetMissingEventsRequest* request,
                                                        v1::GetMissingEventsResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.reads->MissingEvents(auth->origin, request->room_id(), auth->content);
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::Backfill(grpc::ServerContext* context,
                                                const v1::BackfillRequest* request,
                                                v1::BackfillResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.reads->Backfill(auth->origin, request->room_id(),
                                 std::vector<std::string>(request->from_event_ids().begin(),
                                                          request->from_event_ids().end()),
                                 request->limit());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::MakeJoin(grpc::ServerContext* context,
                                                const v1::MakeJoinRequest* request,
                                                v1::MakeJoinResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.joins->MakeJoin(
        auth->origin, request->room_id(), request->user_id(),
        {request->supported_room_versions().begin(), request->supported_room_versions().end()});
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::SendJoin(grpc::ServerContext* context,
                                                const v1::SendJoinRequest* request,
                                                v1::SendJoinResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.joins->SendJoin(auth->origin, request->room_id(), request->event_id(),
                                 request->request().content());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::MakeLeave(grpc::ServerContext* context,
                                                 const v1::MakeLeaveRequest* request,
                                                 v1::MakeLeaveResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.joins->MakeLeave(auth->origin, request->room_id(), request->user_id());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::SendLeave(grpc::ServerContext* context,
                                                 const v1::SendLeaveRequest* request,
                                                 v1::SendLeaveResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.joins->SendLeave(auth->origin, request->room_id(), request->event_id(),
                                  request->request().content());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::PerformJoin(grpc::ServerContext* context,
                                                   const v1::PerformJoinRequest* request,
                                                   v1::PerformJoinResponse* response) {
  absl::StatusOr<std::string> joined = deps_.joiner->Join(*request);
  if (!joined.ok()) return grpcutil::ToGrpcStatus(joined.status(), context);
  response->set_event_id(*joined);
  return grpc::Status::OK;
}

grpc::Status FederationApiServiceImpl::PerformOutboundPeek(
    grpc::ServerContext* context, const v1::PerformOutboundPeekRequest* request,
    v1::PerformOutboundPeekResponse* response) {
  absl::StatusOr<v1::PerformOutboundPeekResponse> peeked = deps_.peeker->Peek(*request);
  if (!peeked.ok()) return grpcutil::ToGrpcStatus(peeked.status(), context);
  *response = *std::move(peeked);
  return grpc::Status::OK;
}

grpc::Status FederationApiServiceImpl::Invite(grpc::ServerContext* context,
                                              const v1::InviteRequest* request,
                                              v1::InviteResponse* response) {
  auto answer = [&]() -> absl::StatusOr<matrix::Json> {
    absl::StatusOr<AuthenticatedRequest> auth = Authenticate(request->request());
    if (!auth.ok()) return auth.status();
    return deps_.invites->Invite(auth->origin, request->room_id(), request->event_id(),
                                 request->request().content());
  };
  return Reply(answer(), context, response->mutable_response_json());
}

grpc::Status FederationApiServiceImpl::PerformInvite(grpc::ServerContext* context,
                                                     const v1::PerformInviteRequest* request,
                                                     v1::PerformInviteResponse* response) {
  absl::StatusOr<std::string> invited = deps_.inviter->Invite(*request);
  if (!invited.ok()) return grpcutil::ToGrpcStatus(invited.status(), context);
  response->set_event_id(*invited);
  return grpc::Status::OK;
}

grpc::Status FederationApiServiceImpl::PerformLeave(grpc::ServerContext* context,
                                                    const v1::PerformLeaveRequest* request,
                                                    v1::PerformLeaveResponse* response) {
  absl::StatusOr<std::string> left = deps_.joiner->Leave(*request);
  if (!left.ok()) return grpcutil::ToGrpcStatus(left.status(), context);
  response->set_event_id(*left);
  return grpc::Status::OK;
}

}  // namespace periscope::federationapi
