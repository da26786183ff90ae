#include "pkg/metrics/grpc_metrics.h"

#include <chrono>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/histogram.h"

namespace periscope::metrics {
namespace {

using Clock = std::chrono::steady_clock;

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return kBuckets;
}

// The metric families of one side (server or client) of gRPC.
struct Families {
  Families(prometheus::Registry& r, const std::string& side)
      : started(prometheus::BuildCounter()
                    .Name("grpc_" + side + "_started_total")
                    .Help("RPCs started on the " + side + ".")
                    .Register(r)),
        handled(prometheus::BuildCounter()
                    .Name("grpc_" + side + "_handled_total")
                    .Help("RPCs completed on the " + side + ", by status code.")
                    .Register(r)),
        seconds(prometheus::BuildHistogram()
                    .Name("grpc_" + side + "_handling_seconds")
                    .Help("Time from the start of an RPC to its status, on the " + side + ".")
                    .Register(r)) {}

  prometheus::Family<prometheus::Counter>& started;
  prometheus::Family<prometheus::Counter>& handled;
  prometheus::Family<prometheus::Histogram>& seconds;
};

absl::string_view TypeName(int type) {
  // Both ServerRpcInfo::Type and ClientRpcInfo::Type follow RpcMethod's order.
  switch (type) {
    case 0:
      return "unary";
    case 1:
      return "client_stream";
    case 2:
      return "server_stream";
    case 3:
      return "bidi_stream";
  }
  return "unknown";
}

// Records one RPC: started at construction, handled when the status is seen.
class RpcRecorder {
 public:
  RpcRecorder(Families& f, absl::string_view full_method, int type) : families_(f) {
    auto [service, method] = SplitGrpcMethod(full_method);
    labels_ = {{"grpc_type", std::string(TypeName(type))},
               {"grpc_service", std::string(service)},
               {"grpc_method", std::string(method)}};
    families_.started.Add(labels_).Increment();
  }

  void Finish(int code) {
    if (finished_) return;
    finished_ = true;
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    families_.seconds.Add(labels_, LatencyBuckets()).Observe(elapsed);
    prometheus::Labels with_code = labels_;
    with_code.emplace("grpc_code", std::string(GrpcCodeName(code)));
    families_.handled.Add(with_code).Increment();
  }

 private:
  Families& families_;
  prometheus::Labels labels_;
  Clock::time_point start_ = Clock::now();
  bool finished_ = false;
};

using grpc::experimental::InterceptionHookPoints;

class ServerInterceptor final : public grpc::experimental::Interceptor {
 public:
  ServerInterceptor(Families& f, grpc::experimental::ServerRpcInfo* info)
      : recorder_(f, info->method(), static_cast<int>(info->type())) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      recorder_.Finish(static_cast<int>(methods->GetSendStatus().error_code()));
    }
    methods->Proceed();
  }

 private:
  RpcRecorder recorder_;
};

class ServerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ServerFactory(prometheus::Registry& r) : families_(r, "server") {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ServerInterceptor(families_, info);
  }

 private:
  Families families_;
};

class ClientInterceptor final : public grpc::experimental::Interceptor {
 public:
  ClientInterceptor(Families& f, grpc::experimental::ClientRpcInfo* info)
      : recorder_(f, info->method(), static_cast<int>(info->type())) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      recorder_.Finish(static_cast<int>(methods->GetRecvStatus()->error_code()));
    }
    methods->Proceed();
  }

 private:
  RpcRecorder recorder_;
};

class ClientFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit ClientFactory(prometheus::Registry& r) : families_(r, "client") {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new ClientInterceptor(families_, info);
  }

 private:
  Families families_;
};

}  // namespace

absl::string_view GrpcCodeName(int code) {
  static constexpr absl::string_view kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "Unknown";
  return kNames[code];
}

std::pair<absl::string_view, absl::string_view> SplitGrpcMethod(absl::string_view full) {
  if (!full.empty() && full.front() == '/') full.remove_prefix(1);
  size_t slash = full.find('/');
  if (slash == absl::string_view::npos) return {"unknown", full};
  return {full.substr(0, slash), full.substr(slash + 1)};
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewServerMetricsInterceptor(
    prometheus::Registry& registry) {
  return std::make_unique<ServerFactory>(registry);
}

std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface> NewClientMetricsInterceptor(
    prometheus::Registry& registry) {
  return std::make_unique<ClientFactory>(registry);
}

}  // namespace periscope::metrics
