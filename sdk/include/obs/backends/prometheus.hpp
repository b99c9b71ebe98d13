#pragma once
// Prometheus backend: renders snapshots in the text exposition format 0.0.4,
// or in OpenMetrics 1.0 text (with histogram exemplars and # UNIT) when the
// scraper asks for it. Pull-based: the admin server's /metrics calls
// render() or render_openmetrics().
//
// Names follow OpenTelemetry's Prometheus compatibility rules
// (obs/metric_names.hpp): unit and "_total" suffixes, sanitised names and
// label keys, up-down counters as gauges, the instrumentation scope as the
// otel_scope_name and otel_scope_version labels of every sample, and the
// resource's attributes as the labels of one target_info series.
#include <mutex>
#include <string>
#include <utility>

#include "obs/export.hpp"
#include "obs/metrics_backend.hpp"

namespace obs {

struct PrometheusOptions {
  // otel_scope_name="obs" and otel_scope_version on every sample, as the
  // compatibility spec asks by default; false leaves them out
  // (OBS_PROMETHEUS_SCOPE_LABELS=false).
  bool scope_labels = true;
};

class OBS_API PrometheusBackend : public MetricsBackend {
 public:
  explicit PrometheusBackend(PrometheusOptions options = {}) : options_(options) {}
  std::string_view name() const override { return "prometheus"; }
  void attach(const Resource& resource, MetricsProducer producer) override;
  // A fresh snapshot rendered as text format 0.0.4.
  std::string render() const;
  // `resource`, when given, becomes the target_info series.
  static std::string render(const MetricsSnapshot& snapshot, const Resource* resource = nullptr,
                            const PrometheusOptions& options = {});
  // A fresh snapshot rendered as OpenMetrics 1.0 text, ending in "# EOF".
  // Histogram buckets carry their exemplar (trace_id, span_id), if any.
  std::string render_openmetrics() const;
  static std::string render_openmetrics(const MetricsSnapshot& snapshot, const Resource* resource = nullptr,
                                        const PrometheusOptions& options = {});

 private:
  std::pair<MetricsProducer, Resource> attached() const;  // a consistent copy of both

  const PrometheusOptions options_;
  mutable std::mutex mutex_;
  MetricsProducer producer_;
  Resource resource_;
};

}  // namespace obs
