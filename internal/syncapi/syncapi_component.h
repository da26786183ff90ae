#pragma once
// The syncapi: its own copy of timelines and state, /sync long-polls. Every RPC answers
// UNIMPLEMENTED until issue #4 (rooms, events and /sync) fills them in.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/config/config.h"
#include "pkg/pg/pg.h"

namespace periscope::syncapi {

class SyncApiComponent {
 public:
  static constexpr char kServiceName[] = "periscope.syncapi.v1.SyncApiService";

  // Applies the component's migrations and wires the service.
  static absl::StatusOr<std::unique_ptr<SyncApiComponent>> Create(const config::Config& config,
                                                                  pg::Pool& pool);
  ~SyncApiComponent();
  std::vector<grpc::Service*> services();

 private:
  struct Parts;
  explicit SyncApiComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::syncapi
