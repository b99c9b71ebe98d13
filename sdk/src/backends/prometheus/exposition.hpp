#pragma once
// The text expositions of a snapshot (internal to the Prometheus backend).
#include <string>

#include "obs/backends/prometheus.hpp"
#include "obs/metrics_snapshot.hpp"
#include "obs/resource.hpp"

namespace obs::prometheus_text {

enum class Format { Text004, OpenMetrics };

// `resource`, when given, becomes the target_info series.
std::string write(const MetricsSnapshot& snapshot, const Resource* resource, Format format,
                  const PrometheusOptions& options);

}  // namespace obs::prometheus_text
