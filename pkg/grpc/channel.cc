#include "pkg/grpc/channel.h"

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "pkg/metrics/grpc_metrics.h"

namespace periscope::grpcutil {

std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
ClientInterceptors(prometheus::Registry* registry) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> out;
  if (registry != nullptr) out.push_back(metrics::NewClientMetricsInterceptor(*registry));
  return out;
}

std::shared_ptr<grpc::Channel> Dial(const std::string& address, prometheus::Registry* registry) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);
  // Reconnect quickly after a component restarts instead of backing off for up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, grpc::InsecureChannelCredentials(), args, ClientInterceptors(registry));
}

}  // namespace periscope::grpcutil
