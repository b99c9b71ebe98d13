#include "metrics/delta_tracker.hpp"

namespace obs::internal {
namespace {

std::string series_key(const MetricFamilySnapshot& family, const SeriesSnapshot& series) {
  std::string key = family.name;
  key += series.overflow ? '\x02' : '\x01';
  for (const auto& v : series.label_values) {  // length-prefixed: no value can fake a boundary
    key += std::to_string(v.size());
    key += ':';
    key += v;
  }
  return key;
}

}  // namespace

MetricsSnapshot DeltaTracker::next(const MetricsSnapshot& cumulative) {
  MetricsSnapshot out;
  out.time = cumulative.time;
  out.families.reserve(cumulative.families.size());
  for (const auto& family : cumulative.families) {
    auto& f = out.families.emplace_back();
    f.name = family.name;
    f.unit = family.unit;
    f.description = family.description;
    f.type = family.type;
    f.integer = family.integer;
    f.label_keys = family.label_keys;
    f.series = family.series;
    // Up-down counters stay cumulative, as OpenTelemetry's delta preference says.
    if (family.type == MetricType::Gauge || family.type == MetricType::UpDownCounter) continue;
    for (auto& s : f.series) {
      auto [it, fresh] = previous_.try_emplace(series_key(family, s));
      Previous& prev = it->second;
      if (family.type == MetricType::Counter) {
        const double total = s.value;
        const std::int64_t int_total = s.int_value;
        if (!fresh && total >= prev.value) {
          s.value = total - prev.value;
          s.int_value = static_cast<std::int64_t>(static_cast<std::uint64_t>(int_total) -
                                                  static_cast<std::uint64_t>(prev.int_value));
        }
        prev.value = total;
        prev.int_value = int_total;
        continue;
      }
      auto& h = s.histogram;
      const Previous now{0, 0, h.count, h.sum, h.counts};
      bool reset = fresh || h.count < prev.count || prev.buckets.size() != h.counts.size();
      for (std::size_t i = 0; !reset && i < h.counts.size(); ++i) reset = h.counts[i] < prev.buckets[i];
      if (!reset) {
        h.count -= prev.count;
        h.sum -= prev.sum;
        // Sums of non-negative values only grow; guard the rounding anyway,
        // so no export ever shows a negative interval sum for them.
        if (!h.negative_observed && h.sum < 0) h.sum = 0;
        for (std::size_t i = 0; i < h.counts.size(); ++i) h.counts[i] -= prev.buckets[i];
        // The extremes are since the series began, not of this interval.
        h.min.reset();
        h.max.reset();
        // Exemplars from earlier intervals were reported then.
        for (auto& e : h.exemplars)
          if (e && e->time <= previous_time_) e.reset();
      }
      prev = now;
    }
  }
  interval_start_ = previous_time_;
  previous_time_ = cumulative.time;
  return out;
}

}  // namespace obs::internal
