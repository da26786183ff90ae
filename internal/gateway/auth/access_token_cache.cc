#include "internal/gateway/auth/access_token_cache.h"

#include "pkg/crypto/digest.h"

namespace periscope::gateway {

std::optional<userapi::v1::Device> AccessTokenCache::Get(absl::string_view access_token) {
  if (ttl_ <= absl::ZeroDuration()) return std::nullopt;
  std::string key = crypto::Sha256(access_token);
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= clock_.Now()) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.device;
}

uint64_t AccessTokenCache::LookupTicket() {
  absl::MutexLock lock(&mu_);
  return evictions_;
}

void AccessTokenCache::Put(absl::string_view access_token, const userapi::v1::Device& device,
                           uint64_t ticket) {
  if (ttl_ <= absl::ZeroDuration()) return;
  std::string key = crypto::Sha256(access_token);
  absl::MutexLock lock(&mu_);
  if (ticket != evictions_) return;  // a logout happened while this lookup was in flight
  if (entries_.size() >= max_entries_) {
    DropExpiredLocked();
    if (entries_.size() >= max_entries_) entries_.clear();  // bounded memory beats hit rate
  }
  entries_[key] = Entry{device, clock_.Now() + ttl_};
}

void AccessTokenCache::EvictDevice(absl::string_view user_id, absl::string_view device_id) {
  absl::MutexLock lock(&mu_);
  ++evictions_;
  std::erase_if(entries_, [&](const auto& kv) {
    return kv.second.device.user_id() == user_id && kv.second.device.device_id() == device_id;
  });
}

void AccessTokenCache::EvictUser(absl::string_view user_id) {
  absl::MutexLock lock(&mu_);
  ++evictions_;
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.device.user_id() == user_id; });
}

void AccessTokenCache::DropExpiredLocked() {
  absl::Time now = clock_.Now();
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires <= now; });
}

}  // namespace periscope::gateway
