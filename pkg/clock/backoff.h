#pragma once
// How long to wait before trying again after `failures` failures in a row: `first`, doubled per
// further failure, never more than `max`.

#include <algorithm>

#include "absl/time/time.h"

namespace periscope {

inline absl::Duration DoublingBackoff(absl::Duration first, absl::Duration max, int failures) {
  absl::Duration d = first;
  for (int i = 1; i < failures && d < max; ++i) d *= 2;
  return std::min(d, max);
}

}  // namespace periscope
