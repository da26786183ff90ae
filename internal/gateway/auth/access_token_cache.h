#pragma once
// A short-lived cache of access token -> device, so that most requests need no userapi call.
// Keyed by the token's SHA-256 (raw tokens are not kept in memory longer than a request).
// Logout evicts at once; entries also expire after the configured TTL.

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "periscope/userapi/v1/userapi.pb.h"
#include "pkg/clock/clock.h"

namespace periscope::gateway {

class AccessTokenCache {
 public:
  AccessTokenCache(const Clock& clock, absl::Duration ttl, size_t max_entries = 100'000)
      : clock_(clock), ttl_(ttl), max_entries_(max_entries) {}

  std::optional<userapi::v1::Device> Get(absl::string_view access_token);

  // A lookup of a token not in the cache: take a ticket before asking userapi, and Put with it.
  // A logout evicting while the lookup was in flight makes the ticket stale, and the answer
  // (which userapi may have given before the logout) is not cached: a revoked token can never
  // come back into the cache.
  uint64_t LookupTicket();
  void Put(absl::string_view access_token, const userapi::v1::Device& device, uint64_t ticket);
  // Forgets one device's token(s).
  void EvictDevice(absl::string_view user_id, absl::string_view device_id);
  // Forgets every token of a user.
  void EvictUser(absl::string_view user_id);

 private:
  struct Entry {
    userapi::v1::Device device;
    absl::Time expires;
  };
  void DropExpiredLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  absl::Duration ttl_;
  size_t max_entries_;
  absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Evictions so far; a ticket is the count when the lookup started.
  uint64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace periscope::gateway
