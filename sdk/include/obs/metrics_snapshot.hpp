#pragma once
// A point-in-time copy of every metric, handed to metrics backends. Each
// family carries the instrument as registered: its OpenTelemetry name, unit,
// description and attribute keys (obs/metric_names.hpp renders them for
// Prometheus).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "obs/trace_context.hpp"

namespace obs {

// Counter: a monotonic sum. UpDownCounter: a sum that may go down (active
// requests, queue length): OTLP sends it as a non-monotonic cumulative sum,
// Prometheus as a gauge. Gauge: the last value set.
enum class MetricType { Counter, UpDownCounter, Gauge, Histogram };

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
  // Of the finite observations: +Inf and -Inf are counted in their bucket
  // but not summed (NaN is not recorded at all), so the sum is never NaN.
  double sum = 0;
  // A value below zero was observed (since the series began): the sum is
  // then no running total of non-negative events, and OTLP leaves it out.
  bool negative_observed = false;
  // Smallest and largest observation since the series began; unknown (and
  // left out of exports) for the intervals of delta snapshots.
  std::optional<double> min;
  std::optional<double> max;
  // Empty, or one entry per bucket (like `counts`): that bucket's exemplar, if any.
  std::vector<std::optional<Exemplar>> exemplars;
};

struct SeriesSnapshot {
  // Values in the order of MetricFamilySnapshot::label_keys. Empty for the
  // overflow series, which has overflow == true instead.
  std::vector<std::string> label_values;
  bool overflow = false;
  double value = 0;        // counter or up-down counter total, or gauge value
  std::int64_t int_value = 0;  // the same exactly, when the family's `integer` is set
  HistogramData histogram; // histograms only
};

struct MetricFamilySnapshot {
  std::string name;         // OpenTelemetry name, as registered: "http.server.request.duration"
  std::string unit;         // UCUM, as registered: "s", "By", "{request}", or empty
  std::string description;
  MetricType type = MetricType::Counter;
  // Counters and up-down counters whose every amount so far was a whole
  // number: points are integers (OTLP as_int), read from int_value.
  bool integer = false;
  std::vector<std::string> label_keys;  // attribute keys, as registered: "http.request.method"
  std::vector<SeriesSnapshot> series;
};

struct MetricsSnapshot {
  std::chrono::system_clock::time_point time;
  std::vector<MetricFamilySnapshot> families;
};

}  // namespace obs
