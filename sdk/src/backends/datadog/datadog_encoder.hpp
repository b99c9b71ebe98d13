#pragma once
// Datadog wire formats (internal): log entries for the HTTP logs intake
// (a JSON array per request), series for the metrics API v1, DogStatsD
// lines, and the pieces they share (unified service tags, Datadog's
// decimal trace ids, histogram aggregates). Pure functions, so tests
// check them directly.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "export/batch_exporter.hpp"
#include "obs/datadog.hpp"
#include "obs/log_backend.hpp"
#include "obs/metrics_snapshot.hpp"
#include "obs/resource.hpp"

namespace obs::datadog {

// env, service, version (each when set), then the configured tags.
std::vector<std::string> unified_tags(const Resource& resource, const std::vector<std::string>& tags);
// The low 64 bits of a trace id (or a span id) in decimal, as Datadog
// correlates logs and traces; "" for an invalid id.
std::string decimal_id(const TraceId& id);
std::string decimal_id(const SpanId& id);
// Datadog's status for a level.
std::string_view status(log::Level level);

// ---- logs ----

struct LogContext {
  std::string service;
  std::string hostname;
  std::string source;
  std::string ddtags;  // comma-separated
  std::size_t max_entry_bytes = 1000000;
};

// One log entry as JSON. An entry over max_entry_bytes has its message
// (and, if that is not enough, its field values) cut, ending with
// kTruncatedMarker, and "obs.truncated": true; `truncated` says so.
std::string encode_log_entry(const LogRecord& record, const LogContext& context, bool& truncated);
inline constexpr std::string_view kTruncatedMarker = "...[truncated by obs]";
// Packs entries into JSON arrays of at most `max_entries` entries and
// `max_bytes` bytes (an entry longer than that goes alone).
std::vector<internal::Payload> pack_log_entries(std::span<const std::string> entries, std::size_t max_entries,
                                                std::size_t max_bytes);

// ---- metrics ----

enum class PointType { Count, Gauge };
struct Point {
  std::string name;
  double value = 0;
  PointType type = PointType::Gauge;
  std::vector<std::string> tags;  // the series' own tags (labels), without the common ones
};

struct HistogramSettings {
  std::vector<std::string> aggregates;
  std::vector<double> percentiles;
};
// Throws std::invalid_argument for an unknown aggregate or a percentile
// outside (0, 1).
HistogramSettings histogram_settings(const DatadogOptions& options);
// Datadog's metric name: Prometheus' ':' is not allowed there.
std::string metric_name(std::string_view name);
// A quantile of one interval's observations, interpolated in its bucket.
double histogram_quantile(const HistogramData& h, double q);

// The Datadog points of one series of a delta snapshot (counters as
// counts, gauges, histograms as their aggregates). Non-finite values are
// left out; `skipped` counts them.
std::vector<Point> points_of(const MetricFamilySnapshot& family, const SeriesSnapshot& series,
                             const HistogramSettings& histograms, std::size_t& skipped);

struct SeriesContext {
  std::string host;
  std::vector<std::string> tags;  // common tags
  std::int64_t interval_seconds = 60;
};
// Series API v1 request bodies for a delta snapshot, each at most
// `max_bytes` of JSON; the weight of each is the snapshot series in it.
std::vector<internal::Payload> encode_series(const MetricsSnapshot& delta, const SeriesContext& context,
                                             const HistogramSettings& histograms, std::size_t max_bytes);

// One DogStatsD line: name:value|c or |g, then |#tags.
std::string dogstatsd_line(const Point& point, std::string_view common_tags);
// A tag made safe for DogStatsD lines and ddtags (no ',', '|', '#' or line breaks).
std::string safe_tag(std::string_view tag);

}  // namespace obs::datadog
