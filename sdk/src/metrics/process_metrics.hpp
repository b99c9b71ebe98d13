#pragma once
#include "obs/metrics_registry.hpp"

namespace obs::internal {
// Adds the process_* families that Prometheus client libraries export
// (CPU, memory, fds, threads, start time), read from /proc on each snapshot.
void add_process_metrics(MetricsRegistry& registry);
}  // namespace obs::internal
