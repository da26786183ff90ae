#pragma once
// An in-memory UserStore for unit tests of the userapi's logic.

#include <map>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "internal/userapi/storage/user_store.h"

namespace periscope::userapi {

class FakeUserStore final : public UserStore {
 public:
  absl::Status CreateAccount(absl::string_view localpart, absl::string_view password_hash,
                             const NewDevice* device, int64_t now_ms) override {
    absl::MutexLock lock(&mu_);
    if (fail_next_.has_value()) return TakeFailure();
    if (accounts_.contains(std::string(localpart))) return absl::AlreadyExistsError("taken");
    accounts_[std::string(localpart)] = std::string(password_hash);
    if (device != nullptr) devices_[device->token_sha256] = Stored(localpart, *device);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> AccountExists(absl::string_view localpart) override {
    absl::MutexLock lock(&mu_);
    if (fail_next_.has_value()) return TakeFailure();
    return accounts_.contains(std::string(localpart));
  }
  absl::StatusOr<std::optional<std::string>> PasswordHash(absl::string_view localpart) override {
    absl::MutexLock lock(&mu_);
    if (fail_next_.has_value()) return TakeFailure();
    auto it = accounts_.find(std::string(localpart));
    if (it == accounts_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  absl::Status UpsertDevice(absl::string_view localpart, const NewDevice& device,
                            int64_t now_ms) override {
    absl::MutexLock lock(&mu_);
    if (fail_next_.has_value()) return TakeFailure();
    std::erase_if(devices_, [&](const auto& kv) {
      return kv.second.localpart == localpart && kv.second.device_id == device.device_id;
    });
    devices_[device.token_sha256] = Stored(localpart, device);
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<StoredDevice>> DeviceByTokenHash(
      absl::string_view token_sha256) override {
    absl::MutexLock lock(&mu_);
    if (fail_next_.has_value()) return TakeFailure();
    auto it = devices_.find(std::string(token_sha256));
    if (it == devices_.end()) return std::optional<StoredDevice>();
    return std::optional<StoredDevice>(it->second);
  }
  absl::Status DeleteDevice(absl::string_view localpart, absl::string_view device_id) override {
    absl::MutexLock lock(&mu_);
    size_t n = std::erase_if(devices_, [&](const auto& kv) {
      return kv.second.localpart == localpart && kv.second.device_id == device_id;
    });
    return n ? absl::OkStatus() : absl::NotFoundError("no such device");
  }
  absl::StatusOr<int> DeleteAllDevices(absl::string_view localpart) override {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(
        std::erase_if(devices_, [&](const auto& kv) { return kv.second.localpart == localpart; }));
  }

  absl::StatusOr<std::optional<StoredProfile>> Profile(absl::string_view localpart) override {
    absl::MutexLock lock(&mu_);
    if (fail_next_) return TakeFailure();
    if (!accounts_.contains(std::string(localpart))) return std::optional<StoredProfile>();
    auto it = profiles_.find(std::string(localpart));
    if (it == profiles_.end()) return std::optional<StoredProfile>({std::string(localpart), {}});
    return std::optional<StoredProfile>(it->second);
  }

  absl::Status UpdateProfile(absl::string_view localpart, const StoredProfile& change) override {
    absl::MutexLock lock(&mu_);
    if (fail_next_) return TakeFailure();
    if (!accounts_.contains(std::string(localpart))) return absl::NotFoundError("no such account");
    auto [it, inserted] =
        profiles_.try_emplace(std::string(localpart), StoredProfile{std::string(localpart), {}});
    auto apply = [](std::optional<std::string>& field, const std::optional<std::string>& value) {
      if (value) field = value->empty() ? std::nullopt : value;
    };
    apply(it->second.displayname, change.displayname);
    apply(it->second.avatar_url, change.avatar_url);
    return absl::OkStatus();
  }

  // The next call fails with `status` (e.g. UNAVAILABLE, as if the database were down).
  void FailNext(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_next_ = std::move(status);
  }
  size_t device_count() {
    absl::MutexLock lock(&mu_);
    return devices_.size();
  }

 private:
  static StoredDevice Stored(absl::string_view localpart, const NewDevice& d) {
    return {std::string(localpart), d.device_id, d.display_name};
  }
  absl::Status TakeFailure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status s = *fail_next_;
    fail_next_.reset();
    return s;
  }

  absl::Mutex mu_;
  std::map<std::string, std::string> accounts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, StoredDevice> devices_ ABSL_GUARDED_BY(mu_);  // by token hash
  std::map<std::string, StoredProfile> profiles_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> fail_next_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::userapi
