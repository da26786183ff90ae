#pragma once
// One unary call with gRPC's callback API, as a single function with a completion callback.
// The ClientContext, request and response live until the callback has run.
//
//   CallUnary<Req, Resp>(
//       [stub](auto* ctx, auto* req, auto* resp, auto done) {
//         stub->async()->QueryAccessToken(ctx, req, resp, std::move(done));
//       },
//       request, absl::Seconds(10), [](absl::StatusOr<Resp> r) { ... });

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "pkg/grpc/status_conversion.h"

namespace periscope::grpcutil {

template <typename Request, typename Response>
using UnaryCallback = std::function<void(absl::StatusOr<Response>)>;

template <typename Request, typename Response, typename StartFn>
void CallUnary(StartFn start, Request request, absl::Duration timeout,
               UnaryCallback<Request, Response> done) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
    UnaryCallback<Request, Response> done;
  };
  auto* call = new Call{{}, std::move(request), {}, std::move(done)};
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  start(&call->context, &call->request, &call->response, [call](grpc::Status status) {
    std::unique_ptr<Call> owned(call);
    if (status.ok()) {
      owned->done(std::move(owned->response));
    } else {
      owned->done(FromGrpcStatus(status, owned->context));
    }
  });
}

}  // namespace periscope::grpcutil
