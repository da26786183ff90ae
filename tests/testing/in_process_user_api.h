#pragma once
// (Under tests/: it reaches into userapi internals, which no component may include.)
// A UserApiClient that runs the real userapi verbs in process on an in-memory store (no gRPC,
// no database), answering on another thread as gRPC would (joined when this is destroyed).
// `SetDown(true)` makes every call fail with UNAVAILABLE, as an unreachable component does.

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "internal/gateway/upstream/user_api_client.h"
#include "internal/userapi/perform/account_creator.h"
#include "internal/userapi/perform/device_logout.h"
#include "internal/userapi/perform/password_login.h"
#include "internal/userapi/perform/profile_editor.h"
#include "internal/userapi/query/access_token_query.h"
#include "internal/userapi/testing/fake_user_store.h"

namespace periscope::gateway::testing {

class InProcessUserApi final : public UserApiClient {
 public:
  explicit InProcessUserApi(const Clock& clock, std::string server_name = "test.local")
      : hasher_(1, 8),
        creator_(store_, hasher_, clock, server_name, true),
        login_(store_, hasher_, clock, server_name),
        tokens_(store_, server_name),
        logout_(store_, server_name),
        profiles_(store_, server_name) {}

  // Waits for the answering threads, so that none outlives the test.
  ~InProcessUserApi() override {
    std::vector<std::thread> threads;
    {
      absl::MutexLock lock(&threads_mu_);
      threads = std::move(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  void SetDown(bool down) { down_ = down; }
  int token_queries() const { return token_queries_; }

  void PerformAccountCreation(const userapi_v1::PerformAccountCreationRequest& r,
                              Callback<userapi_v1::PerformAccountCreationResponse> done) override {
    Answer(std::move(done), [this, r] { return creator_.Create(r); });
  }
  void QueryAccountAvailability(
      const userapi_v1::QueryAccountAvailabilityRequest& r,
      Callback<userapi_v1::QueryAccountAvailabilityResponse> done) override {
    Answer(std::move(done),
           [this, r]() -> absl::StatusOr<userapi_v1::QueryAccountAvailabilityResponse> {
             absl::StatusOr<bool> a = creator_.Available(r.localpart());
             if (!a.ok()) return a.status();
             userapi_v1::QueryAccountAvailabilityResponse out;
             out.set_available(*a);
             return out;
           });
  }
  void PerformPasswordLogin(const userapi_v1::PerformPasswordLoginRequest& r,
                            Callback<userapi_v1::PerformPasswordLoginResponse> done) override {
    Answer(std::move(done), [this, r] { return login_.Login(r); });
  }
  void QueryAccessToken(const userapi_v1::QueryAccessTokenRequest& r,
                        Callback<userapi_v1::QueryAccessTokenResponse> done) override {
    ++token_queries_;
    Answer(std::move(done), [this, r]() -> absl::StatusOr<userapi_v1::QueryAccessTokenResponse> {
      absl::StatusOr<userapi_v1::Device> d = tokens_.Resolve(r.access_token());
      if (!d.ok()) return d.status();
      userapi_v1::QueryAccessTokenResponse out;
      *out.mutable_device() = *d;
      return out;
    });
  }
  void PerformLogout(const userapi_v1::PerformLogoutRequest& r,
                     Callback<userapi_v1::PerformLogoutResponse> done) override {
    Answer(std::move(done), [this, r]() -> absl::StatusOr<userapi_v1::PerformLogoutResponse> {
      if (absl::Status s = logout_.Logout(r.user_id(), r.device_id()); !s.ok()) return s;
      return userapi_v1::PerformLogoutResponse();
    });
  }
  void PerformLogoutAll(const userapi_v1::PerformLogoutAllRequest& r,
                        Callback<userapi_v1::PerformLogoutAllResponse> done) override {
    Answer(std::move(done), [this, r]() -> absl::StatusOr<userapi_v1::PerformLogoutAllResponse> {
      absl::StatusOr<int> n = logout_.LogoutAll(r.user_id());
      if (!n.ok()) return n.status();
      userapi_v1::PerformLogoutAllResponse out;
      out.set_devices_deleted(*n);
      return out;
    });
  }

  void QueryProfile(const userapi_v1::QueryProfileRequest& r,
                    Callback<userapi_v1::QueryProfileResponse> done) override {
    Answer(std::move(done), [this, r] { return profiles_.Query(r); });
  }
  void PerformSetProfile(const userapi_v1::PerformSetProfileRequest& r,
                         Callback<userapi_v1::PerformSetProfileResponse> done) override {
    Answer(std::move(done), [this, r] { return profiles_.Set(r); });
  }

 private:
  template <typename T, typename Fn>
  void Answer(Callback<T> done, Fn fn) {
    std::thread answer;
    if (down_) {
      answer = std::thread([done] { done(absl::UnavailableError("connection refused")); });
    } else {
      answer = std::thread([done, fn] { done(fn()); });
    }
    absl::MutexLock lock(&threads_mu_);
    threads_.push_back(std::move(answer));
  }

  userapi::FakeUserStore store_;
  crypto::PasswordHasher hasher_;
  userapi::AccountCreator creator_;
  userapi::PasswordLogin login_;
  userapi::AccessTokenQuery tokens_;
  userapi::DeviceLogout logout_;
  userapi::ProfileEditor profiles_;
  std::atomic<bool> down_{false};
  std::atomic<int> token_queries_{0};
  absl::Mutex threads_mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(threads_mu_);
};

}  // namespace periscope::gateway::testing
