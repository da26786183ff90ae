#include "internal/federationapi/service/federationapi_service.h"

#include "pkg/grpc/status_conversion.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {

grpc::Status FederationApiServiceImpl::GetServerKeys(grpc::ServerContext* context,
                                                     const v1::GetServerKeysRequest*,
                                                     v1::GetServerKeysResponse* response) {
  absl::StatusOr<matrix::Json> doc =
      matrix::BuildServerKeys(server_name_, key_, clock_.Now() + key_validity_);
  if (!doc.ok()) return grpcutil::ToGrpcStatus(doc.status(), context);
  absl::StatusOr<std::string> text = matrix::EncodeCanonicalJson(*doc);
  if (!text.ok()) return grpcutil::ToGrpcStatus(text.status(), context);
  response->set_response_json(*std::move(text));
  return grpc::Status::OK;
}

}  // namespace periscope::federationapi
