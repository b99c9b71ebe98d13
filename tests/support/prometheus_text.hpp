#pragma once
// What /metrics adds to every sample's own labels by default: the
// instrumentation scope (OpenTelemetry's Prometheus compatibility spec).
#include <string>

#include "obs/version.hpp"

namespace obs_test {

inline const std::string kScopeLabels = "otel_scope_name=\"obs\",otel_scope_version=\"" OBS_VERSION "\"";

}  // namespace obs_test
