#include "internal/syncapi/peeks/peek_renewer.h"

#include "absl/strings/str_cat.h"

namespace periscope::syncapi {

absl::Status PeekRenewer::Renew(const std::string& user_id, const std::string& device_id) {
  const absl::Time now = clock_.Now();
  const absl::Duration every = lifetime_ / 4;
  const std::string key = absl::StrCat(user_id, "|", device_id);
  {
    absl::MutexLock lock(&mu_);
    if (now - last_prune_ > every) {  // forget devices that have not synced for a while
      last_prune_ = now;
      absl::erase_if(renewed_, [&](const auto& entry) { return now - entry.second > every; });
    }
    auto it = renewed_.find(key);
    if (it != renewed_.end() && now - it->second < every) return absl::OkStatus();
    renewed_[key] = now;
  }
  metrics_.Renewed();
  return store_.RenewPeeks(user_id, device_id, absl::ToUnixMillis(now + lifetime_));
}

}  // namespace periscope::syncapi
