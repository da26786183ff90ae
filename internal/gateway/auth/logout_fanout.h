#pragma once
// Makes a logout take effect at once on every gateway, not only on the one that served it: the
// serving gateway announces the revoked device (or user) on a NATS subject, and every gateway,
// itself included, evicts it from its token cache. Without NATS (a single gateway), the local
// eviction is all there is.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "internal/gateway/auth/access_token_cache.h"
#include "pkg/stream/jetstream.h"

namespace periscope::gateway {

class LogoutFanout {
 public:
  virtual ~LogoutFanout() = default;
  // `device_id` empty: every device of the user.
  virtual void Announce(absl::string_view user_id, absl::string_view device_id) = 0;
};

// Evicts from the local cache only.
class LocalLogoutFanout final : public LogoutFanout {
 public:
  explicit LocalLogoutFanout(AccessTokenCache& cache) : cache_(cache) {}
  void Announce(absl::string_view user_id, absl::string_view device_id) override;

 private:
  AccessTokenCache& cache_;
};

// Evicts locally and tells the other gateways through core NATS.
class NatsLogoutFanout final : public LogoutFanout {
 public:
  // Subscribes to `subject` (e.g. "<prefix>.gateway.logout").
  static absl::StatusOr<std::unique_ptr<NatsLogoutFanout>> Start(stream::JetStream& nats,
                                                                 std::string subject,
                                                                 AccessTokenCache& cache);
  void Announce(absl::string_view user_id, absl::string_view device_id) override;

 private:
  NatsLogoutFanout(stream::JetStream& nats, std::string subject, AccessTokenCache& cache)
      : nats_(nats), subject_(std::move(subject)), local_(cache) {}
  stream::JetStream& nats_;
  std::string subject_;
  LocalLogoutFanout local_;
  std::unique_ptr<stream::JetStream::CoreSubscription> subscription_;
};

}  // namespace periscope::gateway
