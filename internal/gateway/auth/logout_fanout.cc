#include "internal/gateway/auth/logout_fanout.h"

#include "nlohmann/json.hpp"
#include "pkg/logging/logging.h"

namespace periscope::gateway {

void LocalLogoutFanout::Announce(absl::string_view user_id, absl::string_view device_id) {
  if (device_id.empty()) {
    cache_.EvictUser(user_id);
  } else {
    cache_.EvictDevice(user_id, device_id);
  }
}

absl::StatusOr<std::unique_ptr<NatsLogoutFanout>> NatsLogoutFanout::Start(stream::JetStream& nats,
                                                                          std::string subject,
                                                                          AccessTokenCache& cache) {
  std::unique_ptr<NatsLogoutFanout> self(new NatsLogoutFanout(nats, std::move(subject), cache));
  auto sub = nats.SubscribeCore(self->subject_, [raw = self.get()](absl::string_view payload) {
    nlohmann::json msg = nlohmann::json::parse(payload, nullptr, false);
    if (!msg.is_object() || !msg.value("user_id", nlohmann::json()).is_string()) {
      logging::Warn("gateway.bad_logout_announcement");
      return;
    }
    raw->local_.Announce(msg["user_id"].get<std::string>(), msg.value("device_id", std::string()));
  });
  if (!sub.ok()) return sub.status();
  self->subscription_ = *std::move(sub);
  return self;
}

void NatsLogoutFanout::Announce(absl::string_view user_id, absl::string_view device_id) {
  local_.Announce(user_id, device_id);  // this gateway at once, whatever NATS does
  nlohmann::json msg = {{"user_id", std::string(user_id)}, {"device_id", std::string(device_id)}};
  if (absl::Status s = nats_.PublishCore(subject_, msg.dump()); !s.ok()) {
    // Other gateways then fall back on their cache TTL (gateway.token_cache_ttl).
    logging::Warn("gateway.logout_announce_failed", {{"error", s}});
  }
}

}  // namespace periscope::gateway
