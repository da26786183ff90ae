#pragma once
// A FederationCaller that answers from a table, for unit tests of code that calls other servers:
// each call is recorded, and answered by the first handler whose destination and target prefix
// match (or UNAVAILABLE, as an unreachable server).

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "pkg/federation/federation_client.h"

namespace periscope::testing {

class FakeFederation final : public federation::FederationCaller {
 public:
  struct Request {
    std::string destination, method, target;
    std::optional<matrix::Json> body;
  };
  using Handler = std::function<absl::StatusOr<federation::FederationResponse>(const Request&)>;

  void On(std::string destination, std::string target_prefix, Handler handler) {
    absl::MutexLock lock(&mu_);
    routes_.push_back({std::move(destination), std::move(target_prefix), std::move(handler)});
  }
  // Answers `status` with `body`.
  static Handler Answer(int status, matrix::Json body) {
    return [status, body](const Request&) -> absl::StatusOr<federation::FederationResponse> {
      return federation::FederationResponse{status, body, body.dump()};
    };
  }

  absl::StatusOr<federation::FederationResponse> Call(const std::string& destination,
                                                      const std::string& method,
                                                      const std::string& target,
                                                      const std::optional<matrix::Json>& body,
                                                      absl::Duration) override {
    Request call{destination, method, target, body};
    Handler handler;
    {
      absl::MutexLock lock(&mu_);
      calls_.push_back(call);
      for (const auto& r : routes_) {
        if (r.destination == destination && absl::StartsWith(target, r.prefix)) {
          handler = r.handler;
          break;
        }
      }
    }
    if (!handler) return absl::UnavailableError(destination + " is unreachable");
    return handler(call);
  }

  std::vector<Request> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  struct Route {
    std::string destination, prefix;
    Handler handler;
  };
  absl::Mutex mu_;
  std::vector<Route> routes_;
  std::vector<Request> calls_;
};

}  // namespace periscope::testing
