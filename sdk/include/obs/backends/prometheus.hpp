#pragma once
// Prometheus backend: renders snapshots in the text exposition format with
// prometheus-cpp's serializer. Pull-based: the admin server's /metrics
// calls render().
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

 private:
  mutable std::mutex mutex_;
  MetricsProducer producer_;
};

}  // namespace obs
