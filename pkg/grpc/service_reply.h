#pragma once
// The last step of every unary service method: log unexpected failures (the ones a client sees
// as 5xx) and convert the absl::Status, errcode included, for gRPC.

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace periscope::grpcutil {

// Logs INTERNAL/UNKNOWN/DATA_LOSS/UNAVAILABLE as "<component>.failed" with the method, then
// converts with ToGrpcStatus.
grpc::Status FinishCall(const absl::Status& status, grpc::ServerContextBase* ctx,
                        absl::string_view component, absl::string_view method);

// FinishCall for a result whose value is the response message itself.
template <typename Response>
grpc::Status ReplyWith(absl::StatusOr<Response> result, Response* response,
                       grpc::ServerContextBase* ctx, absl::string_view component,
                       absl::string_view method) {
  if (!result.ok()) return FinishCall(result.status(), ctx, component, method);
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace periscope::grpcutil
