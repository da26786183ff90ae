#pragma once
// A KeyFetcher answering from tables (server -> document; (notary, server) -> documents), with
// counts of the fetches, and a switch that holds fetches until released (to test that
// concurrent callers share one).

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "internal/federationapi/keyring/key_fetcher.h"

namespace periscope::federationapi::testing {

using matrix::Json;

class FakeKeyFetcher final : public KeyFetcher {
 public:
  absl::StatusOr<Json> FetchDirect(const std::string& server_name) override {
    absl::MutexLock lock(&mu_);
    ++direct_fetches;
    if (block_)
      mu_.Await(absl::Condition(
          +[](bool* b) { return !*b; }, &block_));
    auto it = direct.find(server_name);
    if (it == direct.end()) return absl::UnavailableError("connection refused");
    return it->second;
  }
  absl::StatusOr<std::vector<Json>> FetchFromNotary(const std::string& notary,
                                                    const std::string& server_name,
                                                    absl::Time) override {
    absl::MutexLock lock(&mu_);
    ++notary_fetches;
    auto it = notary_answers.find({notary, server_name});
    if (it == notary_answers.end()) return absl::UnavailableError("notary unreachable");
    return it->second;
  }
  void Block() {
    absl::MutexLock lock(&mu_);
    block_ = true;
  }
  void Unblock() {
    absl::MutexLock lock(&mu_);
    block_ = false;
  }
  int fetches() {
    absl::MutexLock lock(&mu_);
    return direct_fetches;
  }

  std::map<std::string, Json> direct;
  std::map<std::pair<std::string, std::string>, std::vector<Json>> notary_answers;
  int direct_fetches = 0;
  int notary_fetches = 0;

 private:
  absl::Mutex mu_;
  bool block_ = false;
};

}  // namespace periscope::federationapi::testing
