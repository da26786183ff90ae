#pragma once
// The syncapi: its own copy of timelines and state built from the roomserver output stream
// (storage/, consumer/), /sync long-polls that wait without a thread (notifier/, sync/,
// service/), account data (accountdata/) and the renewal and expiry of local peeks (peeks/).

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "periscope/syncapi/v1/syncapi.pb.h"
#include "pkg/clock/clock.h"
#include "pkg/config/config.h"
#include "pkg/pg/pg.h"
#include "pkg/stream/jetstream.h"

namespace prometheus {
class Registry;
}

namespace periscope::syncapi {

class SyncApiComponent {
 public:
  static constexpr char kServiceName[] = "periscope.syncapi.v1.SyncApiService";

  // Applies the component's migrations, starts consuming the output stream, wires the service.
  // With a `roomserver` channel, lapsed peeks are retired through it (checked every
  // `peek_check_every`); without one, peeks never expire.
  static absl::StatusOr<std::unique_ptr<SyncApiComponent>> Create(
      const config::Config& config, pg::Pool& pool, stream::JetStream& js, const Clock& clock,
      std::shared_ptr<grpc::Channel> roomserver = nullptr,
      absl::Duration peek_check_every = absl::Seconds(1), prometheus::Registry* registry = nullptr);
  ~SyncApiComponent();
  std::vector<grpc::Service*> services();
  // Answers every waiting /sync at once (call before the gRPC server shuts down, so that it does
  // not wait for long-polls).
  void ReleaseWaiters();
  // A /sync without gRPC, for a gateway in the same process (the monolith): what the Sync RPC
  // does, without the call objects and thread hand-offs of an in-process gRPC call. `done` runs
  // once; the returned function cancels (the HTTP client went away).
  std::function<void()> SyncInProcess(const v1::SyncRequest& request,
                                      std::function<void(absl::StatusOr<v1::SyncResponse>)> done);

  // How many /sync calls are parked, waiting for something new.
  size_t waiting_syncs() const;

 private:
  struct Parts;
  explicit SyncApiComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::syncapi
