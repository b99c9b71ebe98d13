#include "core/self_metrics.hpp"

#include <vector>

#include "obs/metrics_registry.hpp"

namespace obs::internal {

const ExporterCounters& exporter_counters() {
  // Their own series limit: the user's default must not send these to overflow.
  static const ExporterCounters counters = [] {
    auto& r = MetricsRegistry::global();
    return ExporterCounters{
        r.counter("obs_exporter_exported", {"signal", "backend"},
                  {.description = "Records, spans or data points delivered to a backend", .series_limit = 1000}),
        r.counter("obs_exporter_failed", {"signal", "backend"},
                  {.description = "Records, spans or data points a backend failed to deliver", .series_limit = 1000}),
        r.counter("obs_exporter_dropped", {"signal", "reason"},
                  {.description = "Records, spans or data points dropped before reaching a backend", .series_limit = 1000}),
    };
  }();
  return counters;
}

void prepare_drop_counters_for_this_thread() noexcept {
  try {
    // Never destroyed: threads still start (and call this) during static destruction.
    static const auto* counters = [] {
      const CounterFamily& dropped = exporter_counters().dropped;
      auto* all = new std::vector<Counter>();
      for (const char* signal : {"logs", "spans"})
        for (const char* reason : {"queue_full", "not_initialized", "copy_failed"})
          all->push_back(dropped.labels(signal, reason));
      return all;
    }();
    for (const Counter& c : *counters) c.inc(0);  // adds nothing; allocates this thread's words
  } catch (...) {
    // Out of memory: the first drop will allocate instead.
  }
}

}  // namespace obs::internal
