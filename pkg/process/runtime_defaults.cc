#include "pkg/process/runtime_defaults.h"

#include "absl/synchronization/mutex.h"

namespace periscope::process {

void ApplyServerRuntimeDefaults() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace periscope::process
