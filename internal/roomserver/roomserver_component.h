#pragma once
// The roomserver: the single writer of rooms' events. Today it declares the roomserver output
// stream and serves RoomserverService; every RPC answers UNIMPLEMENTED until issue #4 (rooms and
// events) and #5 (local peeking) fill them in.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/impl/codegen/service_type.h"
#include "pkg/config/config.h"
#include "pkg/matrix/signing_key.h"
#include "pkg/pg/pg.h"
#include "pkg/stream/jetstream.h"

namespace periscope::roomserver {

// The output stream every consumer (syncapi, federationsender) reads.
stream::StreamSpec OutputStreamSpec(const config::Config& config);

class RoomserverComponent {
 public:
  static constexpr char kServiceName[] = "periscope.roomserver.v1.RoomserverService";

  // Applies migrations, declares the output stream, and wires the service.
  static absl::StatusOr<std::unique_ptr<RoomserverComponent>> Create(const config::Config& config,
                                                                     pg::Pool& pool,
                                                                     stream::JetStream& js,
                                                                     const matrix::SigningKey& key);
  ~RoomserverComponent();
  std::vector<grpc::Service*> services();

 private:
  struct Parts;
  explicit RoomserverComponent(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace periscope::roomserver
