// Snapshot -> prometheus-cpp's MetricFamily -> its text serializer, so the
// exposition format (escaping, number formatting) is prometheus-cpp's.
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <limits>
#include <sstream>
#include <unordered_set>

#include "backends/prometheus/target_info.hpp"
#include "obs/backends/prometheus.hpp"
#include "obs/metric_names.hpp"

namespace obs {
namespace {

prometheus::MetricType to_prometheus(MetricType t) {
  switch (t) {
    case MetricType::Counter: return prometheus::MetricType::Counter;
    case MetricType::UpDownCounter:
    case MetricType::Gauge: return prometheus::MetricType::Gauge;
    case MetricType::Histogram: return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

}  // namespace

void PrometheusBackend::attach(const Resource& resource, MetricsProducer producer) {
  std::lock_guard lock(mutex_);
  producer_ = std::move(producer);
  resource_ = resource;
}

std::string PrometheusBackend::render() const {
  MetricsProducer producer;
  Resource resource;
  {
    std::lock_guard lock(mutex_);
    producer = producer_;
    resource = resource_;
  }
  return producer ? render(producer(), &resource) : std::string();
}

std::string PrometheusBackend::render(const MetricsSnapshot& snapshot, const Resource* resource) {
  std::vector<prometheus::MetricFamily> families;
  families.reserve(snapshot.families.size() + 1);
  std::unordered_set<std::string> names;
  if (resource) {
    prometheus::MetricFamily info;
    info.name = "target_info";
    info.help = prometheus_text::kTargetInfoHelp;
    info.type = prometheus::MetricType::Gauge;  // prometheus-cpp has no info type: a gauge of 1, as the spec allows
    prometheus::ClientMetric m;
    for (auto& [k, v] : prometheus_text::target_info_labels(*resource)) m.label.push_back({k, v});
    m.gauge.value = 1;
    info.metric.push_back(std::move(m));
    names.insert(info.name);
    families.push_back(std::move(info));
  }
  for (const auto& f : snapshot.families) {
    if (f.series.empty()) continue;  // a family with no series has nothing to say yet
    prometheus::MetricFamily pf;
    pf.name = prometheus_metric_name(f.name, f.unit, f.type);
    // The registry refuses colliding names; this keeps a scrape well-formed
    // even if a collector produces one anyway (Prometheus rejects a whole
    // scrape that repeats a family).
    if (!names.insert(pf.name).second) continue;
    // HELP is expected (promtool warns without it); the instrument's own
    // name says at least what it is when no description was given.
    pf.help = f.description.empty() ? f.name : f.description;
    pf.type = to_prometheus(f.type);
    std::vector<std::string> label_names;
    label_names.reserve(f.label_keys.size());
    for (const auto& k : f.label_keys) label_names.push_back(prometheus_label_name(k));
    pf.metric.reserve(f.series.size());
    for (const auto& s : f.series) {
      prometheus::ClientMetric m;
      if (s.overflow) {
        m.label.push_back({"otel_metric_overflow", "true"});
      } else {
        for (std::size_t i = 0; i < label_names.size() && i < s.label_values.size(); ++i)
          if (!s.label_values[i].empty()) m.label.push_back({label_names[i], s.label_values[i]});  // empty is absent
      }
      switch (f.type) {
        case MetricType::Counter: m.counter.value = s.value; break;
        case MetricType::UpDownCounter:
        case MetricType::Gauge: m.gauge.value = s.value; break;
        case MetricType::Histogram: {
          const auto& h = s.histogram;
          m.histogram.sample_count = h.count;
          m.histogram.sample_sum = h.sum;
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i < h.counts.size(); ++i) {
            cumulative += h.counts[i];
            const double bound = i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity();
            m.histogram.bucket.push_back({cumulative, bound});
          }
          break;
        }
      }
      pf.metric.push_back(std::move(m));
    }
    families.push_back(std::move(pf));
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace obs
