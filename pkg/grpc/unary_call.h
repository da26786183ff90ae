#pragma once
// One blocking unary call with a deadline, its gRPC status turned back into an absl::Status with
// the Matrix errcode it carried: what a component's client of another component's service does
// for each method.

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::grpcutil {

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> UnaryCall(Stub& stub,
                                   grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                const Request&, Response*),
                                   const Request& request, absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  Response response;
  grpc::Status s = (stub.*method)(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s, context);
  return response;
}

}  // namespace periscope::grpcutil
