#include "pkg/metrics/build_info.h"

#include <string>

#include "prometheus/gauge.h"

namespace periscope::metrics {

void RegisterBuildInfo(prometheus::Registry& registry, absl::string_view component) {
  prometheus::BuildGauge()
      .Name("periscope_build_info")
      .Help("Always 1; labels name the component and version the process runs.")
      .Register(registry)
      .Add({{"component", std::string(component)}, {"version", kPeriscopeVersion}})
      .Set(1);
}

}  // namespace periscope::metrics
