#pragma once
// Client channels to other components, with the client metrics interceptor.

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/support/client_interceptor.h"
#include "prometheus/registry.h"

namespace periscope::grpcutil {

// The interceptors every client channel gets (none without a registry).
std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
ClientInterceptors(prometheus::Registry* registry);

// A plaintext channel to `address` (host:port). Calls fail fast with UNAVAILABLE while the
// component is unreachable, rather than waiting for it.
std::shared_ptr<grpc::Channel> Dial(const std::string& address, prometheus::Registry* registry);

}  // namespace periscope::grpcutil
