#include "core/self_metrics.hpp"

#include "obs/metrics_registry.hpp"

namespace obs::internal {

const ExporterCounters& exporter_counters() {
  // Their own series limit: the user's default must not send these to overflow.
  static const ExporterCounters counters = [] {
    auto& r = MetricsRegistry::global();
    return ExporterCounters{
        r.counter("obs_exporter_exported", {"signal", "backend"},
                  {.help = "Records, spans or data points delivered to a backend", .series_limit = 1000}),
        r.counter("obs_exporter_failed", {"signal", "backend"},
                  {.help = "Records, spans or data points a backend failed to deliver", .series_limit = 1000}),
        r.counter("obs_exporter_dropped", {"signal", "reason"},
                  {.help = "Records, spans or data points dropped before reaching a backend", .series_limit = 1000}),
    };
  }();
  return counters;
}

}  // namespace obs::internal
