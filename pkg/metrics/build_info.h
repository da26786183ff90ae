#pragma once
// periscope_build_info{component,version} 1: which component and version a process runs (a
// constant series, so dashboards can join on it and count processes).

#include "absl/strings/string_view.h"
#include "prometheus/registry.h"

namespace periscope::metrics {

inline constexpr char kPeriscopeVersion[] = "0.1.0";

void RegisterBuildInfo(prometheus::Registry& registry, absl::string_view component);

}  // namespace periscope::metrics
