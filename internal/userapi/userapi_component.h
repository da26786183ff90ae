#pragma once
// The userapi assembled: store, verbs and gRPC service, from the configuration. The monolith and
// periscope-userapi both build it with Create() and serve services().

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/clock/clock.h"
#include "pkg/config/config.h"
#include "pkg/pg/pg.h"

namespace periscope::userapi {

class UserApiComponent {
 public:
  // Applies the userapi's migrations to `pool` and wires everything.
  static absl::StatusOr<std::unique_ptr<UserApiComponent>> Create(const config::Config& config,
                                                                  pg::Pool& pool,
                                                                  const Clock& clock);
  ~UserApiComponent();

  std::vector<grpc::Service*> services();
  static constexpr char kServiceName[] = "periscope.userapi.v1.UserApiService";

 private:
  struct Parts;
  explicit UserApiComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::userapi
