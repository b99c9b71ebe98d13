// Snapshot -> prometheus-cpp's MetricFamily -> its text serializer, so the
// exposition format (escaping, number formatting) is prometheus-cpp's.
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <unordered_set>

#include "obs/backends/prometheus.hpp"

namespace obs {
namespace {

prometheus::MetricType to_prometheus(MetricType t) {
  switch (t) {
    case MetricType::Counter: return prometheus::MetricType::Counter;
    case MetricType::Gauge: return prometheus::MetricType::Gauge;
    case MetricType::Histogram: return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

}  // namespace

void PrometheusBackend::attach(const Resource&, MetricsProducer producer) {
  std::lock_guard lock(mutex_);
  producer_ = std::move(producer);
}

std::string PrometheusBackend::render() const {
  MetricsProducer producer;
  {
    std::lock_guard lock(mutex_);
    producer = producer_;
  }
  return producer ? render(producer()) : std::string();
}

std::string PrometheusBackend::render(const MetricsSnapshot& snapshot) {
  std::vector<prometheus::MetricFamily> families;
  families.reserve(snapshot.families.size());
  std::unordered_set<std::string> names;
  for (const auto& f : snapshot.families) {
    if (f.series.empty()) continue;  // a family with no series has nothing to say yet
    prometheus::MetricFamily pf;
    pf.name = f.type == MetricType::Counter ? f.name + "_total" : f.name;
    // The registry refuses colliding names; this keeps a scrape well-formed
    // even if a collector produces one anyway (Prometheus rejects a whole
    // scrape that repeats a family).
    if (!names.insert(pf.name).second) continue;
    pf.help = f.help;
    pf.type = to_prometheus(f.type);
    pf.metric.reserve(f.series.size());
    for (const auto& s : f.series) {
      prometheus::ClientMetric m;
      if (s.overflow) {
        m.label.push_back({"otel_metric_overflow", "true"});
      } else {
        for (std::size_t i = 0; i < f.label_keys.size() && i < s.label_values.size(); ++i)
          m.label.push_back({f.label_keys[i], s.label_values[i]});
      }
      switch (f.type) {
        case MetricType::Counter: m.counter.value = s.value; break;
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
