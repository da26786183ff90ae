#pragma once
// One unary call with gRPC's callback API, as a single function with a completion callback.
// The ClientContext, request and response live until the callback has run (and while a cancel
// is in progress).
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

// Returns a function that cancels the call (ClientContext::TryCancel; the callback then gets
// CANCELLED). It may be called from any thread, at any time, also after the call has ended.
template <typename Request, typename Response, typename StartFn>
std::function<void()> CallUnary(StartFn start, Request request, absl::Duration timeout,
                                UnaryCallback<Request, Response> done) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
    UnaryCallback<Request, Response> done;
  };
  // Shared so that a cancel racing with completion still holds a live context.
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->done = std::move(done);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  Call* raw = call.get();
  std::weak_ptr<Call> weak = call;
  start(&raw->context, &raw->request, &raw->response, [call](grpc::Status status) mutable {
    std::shared_ptr<Call> owned = std::move(call);
    if (status.ok()) {
      owned->done(std::move(owned->response));
    } else {
      owned->done(FromGrpcStatus(status, owned->context));
    }
  });
  return [weak] {
    if (std::shared_ptr<Call> live = weak.lock()) live->context.TryCancel();
  };
}

}  // namespace periscope::grpcutil
