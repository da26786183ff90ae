#pragma once
// gRPC request metrics in the names of go-grpc-prometheus, so that existing dashboards work:
//   grpc_server_started_total, grpc_server_handled_total{grpc_code}, grpc_server_handling_seconds
//   grpc_client_started_total, grpc_client_handled_total{grpc_code}, grpc_client_handling_seconds
// each labelled grpc_type, grpc_service, grpc_method.

#include <memory>

#include "absl/strings/string_view.h"
#include "grpcpp/support/client_interceptor.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/registry.h"

namespace periscope::metrics {

// The go-grpc-prometheus name of a status code ("OK", "NotFound", ...).
absl::string_view GrpcCodeName(int code);

// Splits "/pkg.Service/Method" into its service and method.
std::pair<absl::string_view, absl::string_view> SplitGrpcMethod(absl::string_view full_method);

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewServerMetricsInterceptor(
    prometheus::Registry& registry);

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> NewClientMetricsInterceptor(
    prometheus::Registry& registry);

}  // namespace periscope::metrics
