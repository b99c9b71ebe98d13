#pragma once
// The SDK's own accounting of what it delivered, dropped and failed to
// deliver, registered once in the global registry.
#include "obs/instruments.hpp"

namespace obs::internal {

struct ExporterCounters {
  CounterFamily exported;  // {signal, backend}
  CounterFamily failed;    // {signal, backend}
  CounterFamily dropped;   // {signal, reason}
};

const ExporterCounters& exporter_counters();

// Registers every obs_exporter_dropped_total series of logs and spans (so
// they exist at 0 from the start) and makes sure the calling thread's words
// for them exist: otherwise a thread's first drop, on the application's
// hot path, would allocate them. Called at init and, through
// set_thread_trace_hook, when a thread first logs or starts a span.
void prepare_drop_counters_for_this_thread() noexcept;

}  // namespace obs::internal
