#pragma once
// PERISCOPE_GRPC_FORWARD(ns, Method): the override of an upstream client interface's Method that
// calls the stub's callback API through grpcutil::CallUnary. The class must have `stub_` and
// `timeout_` members. One line per RPC instead of eight.

#include "pkg/grpc/async_call.h"

#define PERISCOPE_GRPC_FORWARD(ns, Method)                                                        \
  void Method(const ns::Method##Request& request, Callback<ns::Method##Response> done) override { \
    grpcutil::CallUnary<ns::Method##Request, ns::Method##Response>(                               \
        [stub = stub_.get()](auto* ctx, auto* req, auto* resp, auto cb) {                         \
          stub->async()->Method(ctx, req, resp, std::move(cb));                                   \
        },                                                                                        \
        request, timeout_, std::move(done));                                                      \
  }
