#include "obs/backends/prometheus.hpp"

#include "backends/prometheus/exposition.hpp"

namespace obs {

void PrometheusBackend::attach(const Resource& resource, MetricsProducer producer) {
  std::lock_guard lock(mutex_);
  producer_ = std::move(producer);
  resource_ = resource;
}

std::pair<MetricsProducer, Resource> PrometheusBackend::attached() const {
  std::lock_guard lock(mutex_);
  return {producer_, resource_};
}

std::string PrometheusBackend::render() const {
  const auto [producer, resource] = attached();
  return producer ? render(producer(), &resource, options_) : std::string();
}

std::string PrometheusBackend::render(const MetricsSnapshot& snapshot, const Resource* resource,
                                      const PrometheusOptions& options) {
  return prometheus_text::write(snapshot, resource, prometheus_text::Format::Text004, options);
}

std::string PrometheusBackend::render_openmetrics() const {
  const auto [producer, resource] = attached();
  return producer ? render_openmetrics(producer(), &resource, options_) : std::string("# EOF\n");
}

std::string PrometheusBackend::render_openmetrics(const MetricsSnapshot& snapshot, const Resource* resource,
                                                  const PrometheusOptions& options) {
  return prometheus_text::write(snapshot, resource, prometheus_text::Format::OpenMetrics, options);
}

}  // namespace obs
