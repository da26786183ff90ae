#pragma once
// absl::Status <-> grpc::Status across the mesh, keeping the Matrix errcode.
//
// A server returns ToGrpcStatus(status, context): the code and message travel as the gRPC status
// and the Matrix errcode as the trailing metadata "matrix-errcode" (visible to any gRPC tool).
// A client turns the result back with FromGrpcStatus(status, context).

#include "absl/status/status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace periscope::grpcutil {

inline constexpr char kMatrixErrcodeKey[] = "matrix-errcode";
// The trailing metadata key of the Matrix error body's other fields (a JSON object).
inline constexpr char kMatrixErrorFieldsKey[] = "matrix-error-fields";

// Converts and, if the status carries an errcode, adds it to the trailing metadata of `context`.
// `context` may be a ServerContext or a CallbackServerContext.
grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase* context);

// Converts a finished call's status back, restoring the errcode from trailing metadata.
absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context);

}  // namespace periscope::grpcutil
