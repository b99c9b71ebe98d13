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

}  // namespace obs::internal
