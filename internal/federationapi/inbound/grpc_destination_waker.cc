#include "absl/time/clock.h"
#include "internal/federationapi/inbound/destination_waker.h"
#include "periscope/federationsender/v1/federationsender_service.grpc.pb.h"
#include "pkg/logging/logging.h"

namespace periscope::federationapi {
namespace {

namespace fs = ::periscope::federationsender::v1;

class GrpcDestinationWaker final : public DestinationWaker {
 public:
  GrpcDestinationWaker(std::shared_ptr<grpc::Channel> channel, const Clock& clock)
      : stub_(fs::FederationSenderService::NewStub(std::move(channel))), clock_(clock) {}

  void Contacted(const std::string& origin) override {
    absl::Time now = clock_.Now();
    {
      absl::MutexLock lock(&mu_);
      absl::Time& last = last_wake_[origin];
      if (now - last < kWakeInterval) return;
      last = now;
      if (last_wake_.size() > 100000) last_wake_.clear();  // bounded memory, whatever the origins
    }
    struct Call {
      grpc::ClientContext context;
      fs::PerformWakeDestinationRequest request;
      fs::PerformWakeDestinationResponse response;
    };
    auto call = std::make_shared<Call>();
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    call->request.set_server_name(origin);
    stub_->async()->PerformWakeDestination(
        &call->context, &call->request, &call->response, [call, origin](grpc::Status s) {
          if (!s.ok()) {
            logging::Debug("federationapi.wake_failed",
                           {{"origin", origin}, {"error", s.error_message()}});
          }
        });
  }

 private:
  std::unique_ptr<fs::FederationSenderService::Stub> stub_;
  const Clock& clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> last_wake_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<DestinationWaker> NewGrpcDestinationWaker(
    std::shared_ptr<grpc::Channel> federationsender, const Clock& clock) {
  return std::make_unique<GrpcDestinationWaker>(std::move(federationsender), clock);
}

}  // namespace periscope::federationapi
