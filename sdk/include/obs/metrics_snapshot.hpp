#pragma once
// A point-in-time copy of every metric, handed to metrics backends.
// Names are already canonical (Prometheus-valid, counters without "_total").
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "obs/trace_context.hpp"

namespace obs {

enum class MetricType { Counter, Gauge, Histogram };

// A recent observation made inside a sampled span, kept per histogram
// bucket so a latency bucket links to a trace (OpenMetrics exemplars).
struct Exemplar {
  double value = 0;
  TraceId trace_id;
  SpanId span_id;
  std::chrono::system_clock::time_point time;  // when it was observed
};

struct HistogramData {
  std::vector<double> bounds;          // upper bounds, ascending, without +Inf
  std::vector<std::uint64_t> counts;   // per bucket (not cumulative); bounds.size()+1 entries, last is +Inf
  std::uint64_t count = 0;
  double sum = 0;
  // Empty, or one entry per bucket (like `counts`): that bucket's exemplar, if any.
  std::vector<std::optional<Exemplar>> exemplars;
};

struct SeriesSnapshot {
  // Values in the order of MetricFamilySnapshot::label_keys. Empty for the
  // overflow series, which has overflow == true instead.
  std::vector<std::string> label_values;
  bool overflow = false;
  double value = 0;        // counter total or gauge value
  HistogramData histogram; // histograms only
};

struct MetricFamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::Counter;
  std::vector<std::string> label_keys;
  std::vector<SeriesSnapshot> series;
};

struct MetricsSnapshot {
  std::chrono::system_clock::time_point time;
  std::vector<MetricFamilySnapshot> families;
};

}  // namespace obs
