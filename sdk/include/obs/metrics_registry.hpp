#pragma once
// The in-process store of every metric. The facade and the bound handles
// write into it; backends read snapshots of it. The global instance backs
// obs::metric and obs::counter/gauge/histogram; separate instances keep
// tests isolated.
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "obs/export.hpp"
#include "obs/instruments.hpp"
#include "obs/metric_names.hpp"
#include "obs/metrics_snapshot.hpp"
#include "obs/tags.hpp"

namespace obs {

class OBS_API MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The process-wide registry. Never destroyed, so handles stay valid in
  // static destructors.
  static MetricsRegistry& global();

  CounterFamily counter(std::string_view name, std::span<const std::string_view> label_keys,
                        const MetricOptions& options = {});
  UpDownCounterFamily up_down_counter(std::string_view name, std::span<const std::string_view> label_keys,
                                      const MetricOptions& options = {});
  GaugeFamily gauge(std::string_view name, std::span<const std::string_view> label_keys,
                    const MetricOptions& options = {});
  HistogramFamily histogram(std::string_view name, std::span<const std::string_view> label_keys,
                            const MetricOptions& options = {});
  CounterFamily counter(std::string_view name, LabelKeys label_keys = {}, const MetricOptions& options = {}) {
    return counter(name, std::span(label_keys.begin(), label_keys.size()), options);
  }
  UpDownCounterFamily up_down_counter(std::string_view name, LabelKeys label_keys = {},
                                      const MetricOptions& options = {}) {
    return up_down_counter(name, std::span(label_keys.begin(), label_keys.size()), options);
  }
  GaugeFamily gauge(std::string_view name, LabelKeys label_keys = {}, const MetricOptions& options = {}) {
    return gauge(name, std::span(label_keys.begin(), label_keys.size()), options);
  }
  HistogramFamily histogram(std::string_view name, LabelKeys label_keys = {}, const MetricOptions& options = {}) {
    return histogram(name, std::span(label_keys.begin(), label_keys.size()), options);
  }

  // The facade: find or register the family from the name and the tag keys.
  // Rejected measurements are counted in obs_metric_rejected_total.
  void increment(std::string_view name, double value, Tags tags);
  void set_gauge(std::string_view name, double value, Tags tags);
  void observe(std::string_view name, double value, Tags tags);

  // Families computed when a snapshot is taken (process metrics, say).
  // `exposed_names` are the Prometheus sample names they produce (counters
  // with "_total"), reserved so that no registered metric can collide with
  // them.
  using Collector = std::function<void(std::vector<MetricFamilySnapshot>&)>;
  void add_collector(Collector collector, const std::vector<std::string>& exposed_names = {});

  MetricsSnapshot snapshot() const;

  // Limit for families registered from now on without their own limit.
  void set_default_series_limit(std::size_t limit);
  std::size_t default_series_limit() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace obs
