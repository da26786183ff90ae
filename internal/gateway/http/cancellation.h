#pragma once
// Tells the code working on a request that its HTTP client went away, so that it can let go of
// what it started for it (a /sync long-poll parked in syncapi, above all). The request's handler
// registers what to do with OnCancel; the HTTP session, told of that registration, watches the
// connection and calls Cancel if the client hangs up. Requests nobody registers for cost no
// watching. Thread-safe; registration and Cancel may come in either order.

#include <functional>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace periscope::gateway {

class Cancellation {
 public:
  // `on_first_registration` runs once, on the first OnCancel (the session starts watching then).
  explicit Cancellation(std::function<void()> on_first_registration = nullptr)
      : on_first_registration_(std::move(on_first_registration)) {}

  // Runs `on_cancel` when Cancel is called, or at once if it already was. A later registration
  // replaces an earlier one.
  void OnCancel(std::function<void()> on_cancel);
  // Runs the registered callback (once), outside any lock.
  void Cancel();
  bool cancelled() const;

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> on_cancel_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_first_registration_ ABSL_GUARDED_BY(mu_);
};

}  // namespace periscope::gateway
