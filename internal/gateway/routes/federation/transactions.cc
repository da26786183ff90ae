// Server-server API: PUT /_matrix/federation/v1/send/{txnId} (and with a trailing slash, which
// old Synapse versions send), handed to the federationapi with what its signature covers.

#include "internal/gateway/routes/federation/federation_routes.h"

namespace periscope::gateway {

void AddTransactionRoutes(Router& router, FederationApiClient& federationapi) {
  auto send = [&federationapi](RouteRequest request, Responder respond) {
    federationapi_v1::SendTransactionRequest txn;
    *txn.mutable_request() = SignedRequestOf(request.http);
    txn.set_txn_id(request.params.at("txnId"));
    federationapi.SendTransaction(
        txn, JsonBodyReply<federationapi_v1::SendTransactionResponse>(respond));
  };
  router.Add("PUT", "/_matrix/federation/v1/send/{txnId}", send);
  router.Add("PUT", "/_matrix/federation/v1/send/{txnId}/", send);
}

}  // namespace periscope::gateway
