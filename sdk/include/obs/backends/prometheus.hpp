#pragma once
// Prometheus backend: renders snapshots in the text exposition format with
// prometheus-cpp's serializer, or in OpenMetrics 1.0 text (with histogram
// exemplars) when the scraper asks for it. Pull-based: the admin server's
// /metrics calls render() or render_openmetrics().
#include <mutex>
#include <string>

#include "obs/export.hpp"
#include "obs/metrics_backend.hpp"

namespace obs {

class OBS_API PrometheusBackend : public MetricsBackend {
 public:
  std::string_view name() const override { return "prometheus"; }
  void attach(const Resource& resource, MetricsProducer producer) override;
  // A fresh snapshot rendered as text format 0.0.4.
  std::string render() const;
  static std::string render(const MetricsSnapshot& snapshot);
  // A fresh snapshot rendered as OpenMetrics 1.0 text, ending in "# EOF".
  // Histogram buckets carry their exemplar (trace_id, span_id), if any.
  std::string render_openmetrics() const;
  static std::string render_openmetrics(const MetricsSnapshot& snapshot);

 private:
  mutable std::mutex mutex_;
  MetricsProducer producer_;
};

}  // namespace obs
