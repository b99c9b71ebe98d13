#pragma once
// Bound handles for hot paths: register an instrument once, bind label
// values once, then inc()/add()/observe()/set() touch only the series' own
// cell.
//
//   static auto conversions = obs::counter("image.conversions", {"image.format"}, {.unit = "{image}"});
//   static auto png = conversions.labels("png");   // lookup once
//   png.inc();                                     // a plain add to this thread's word
//
// An instrument is its OpenTelemetry name, unit, description, kind and
// attribute keys; OTLP and Datadog send them as registered, Prometheus
// renders them (obs/metric_names.hpp): the counter above is
// image_conversions_total{image_format="png"} on /metrics.
//
// Registration never throws. An invalid name or unit, a name already
// registered with another kind or other label keys, or one whose Prometheus
// name or label names would collide with another's, yields a family whose
// ok() is false and whose error() names the problem; its handles do nothing.
#include <array>
#include <concepts>
#include <cstddef>
#include <limits>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "obs/detail/cells.hpp"
#include "obs/export.hpp"

namespace obs {

struct MetricOptions {
  std::string description{};
  // UCUM unit: "s", "ms", "By", "1" (a ratio), "{request}" (a count of
  // requests); empty for none. Prometheus names get its suffix ("_seconds").
  std::string unit{};
  // Histogram upper bounds, ascending; empty means the defaults (seconds).
  std::vector<double> buckets{};
  // Maximum distinct label sets; 0 means the registry's default (2000).
  std::size_t series_limit = 0;
};

// Prometheus client libraries' defaults, suited to request durations in seconds.
inline const std::vector<double>& default_buckets() {
  static const std::vector<double> b{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

namespace detail {
struct Family;
// Returns the series cell for these label values (creating it, or the
// overflow series when the limit is reached), or nullptr when rejected.
OBS_API void* bind_series(Family* family, std::span<const std::string_view> values);
}  // namespace detail

class Counter {
 public:
  Counter() = default;
  explicit Counter(detail::CounterCell* cell) : cell_(cell) {}
  void inc() const {
    if (cell_) cell_->add(std::uint64_t{1});
  }
  // Negative, infinite or NaN amounts are ignored: a counter only goes up.
  void inc(double amount) const {
    if (cell_ && amount >= 0 && amount <= std::numeric_limits<double>::max()) cell_->add(amount);
  }
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void inc(T amount) const {
    if (cell_ && amount >= 0) cell_->add(static_cast<std::uint64_t>(amount));
  }
  double value() const { return cell_ ? cell_->value() : 0; }
  bool valid() const { return cell_ != nullptr; }

 private:
  detail::CounterCell* cell_ = nullptr;
};

// A sum that goes up and down (active requests, items in a queue). Adds
// touch only this thread's words, like Counter's.
class UpDownCounter {
 public:
  UpDownCounter() = default;
  explicit UpDownCounter(detail::CounterCell* cell) : cell_(cell) {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void add(T amount) const {
    if (cell_) cell_->add(static_cast<std::uint64_t>(static_cast<std::int64_t>(amount)));
  }
  // Infinite or NaN amounts are ignored.
  void add(double amount) const {
    if (cell_ && amount - amount == 0) cell_->add(amount);
  }
  void inc() const { add(1); }
  void dec() const { add(-1); }
  double value() const { return cell_ ? cell_->signed_value() : 0; }
  bool valid() const { return cell_ != nullptr; }

 private:
  detail::CounterCell* cell_ = nullptr;
};

class Gauge {
 public:
  Gauge() = default;
  explicit Gauge(detail::GaugeCell* cell) : cell_(cell) {}
  void set(double v) const {
    if (cell_) cell_->set(v);
  }
  void add(double v) const {
    if (cell_) cell_->add(v);
  }
  void inc() const { add(1); }
  void dec() const { add(-1); }
  double value() const { return cell_ ? cell_->value() : 0; }
  bool valid() const { return cell_ != nullptr; }

 private:
  detail::GaugeCell* cell_ = nullptr;
};

class Histogram {
 public:
  Histogram() = default;
  explicit Histogram(detail::HistogramCell* cell) : cell_(cell) {}
  void observe(double v) const {
    if (cell_) cell_->observe(v);
  }
  bool valid() const { return cell_ != nullptr; }

 private:
  detail::HistogramCell* cell_ = nullptr;
};

// A registered metric family. labels(...) binds values, in the order the
// label keys were given at this registration, to one series.
template <class Handle, class Cell>
class Family {
 public:
  Family() = default;
  // `order`: where each of this registration's keys sits in the family's
  // own key order (empty when they are the same).
  Family(detail::Family* family, std::string error, std::vector<std::uint8_t> order = {})
      : family_(family), error_(std::move(error)), order_(std::move(order)) {}

  template <class... Values>
  Handle labels(const Values&... values) const {
    std::array<std::string_view, sizeof...(Values)> v{std::string_view(values)...};
    return labels_span(v);
  }
  Handle labels_span(std::span<const std::string_view> values) const {
    if (!family_) return Handle();
    if (!order_.empty() && values.size() == order_.size() && values.size() <= 16) {
      std::array<std::string_view, 16> reordered;
      for (std::size_t i = 0; i < values.size(); ++i) reordered[order_[i]] = values[i];
      return Handle(static_cast<Cell*>(detail::bind_series(family_, std::span(reordered.data(), values.size()))));
    }
    return Handle(static_cast<Cell*>(detail::bind_series(family_, values)));
  }
  bool ok() const { return family_ != nullptr; }
  const std::string& error() const { return error_; }

 private:
  detail::Family* family_ = nullptr;
  std::string error_;
  std::vector<std::uint8_t> order_;
};

using CounterFamily = Family<Counter, detail::CounterCell>;
using UpDownCounterFamily = Family<UpDownCounter, detail::CounterCell>;
using GaugeFamily = Family<Gauge, detail::GaugeCell>;
using HistogramFamily = Family<Histogram, detail::HistogramCell>;

using LabelKeys = std::initializer_list<std::string_view>;

// Registration in the global registry (see MetricsRegistry for instances).
// Names follow OpenTelemetry's syntax (a letter, then [A-Za-z0-9_.-/]);
// Prometheus adds a counter's "_total" on exposition, so leave it out.
OBS_API CounterFamily counter(std::string_view name, LabelKeys label_keys = {}, const MetricOptions& options = {});
OBS_API UpDownCounterFamily up_down_counter(std::string_view name, LabelKeys label_keys = {},
                                            const MetricOptions& options = {});
OBS_API GaugeFamily gauge(std::string_view name, LabelKeys label_keys = {}, const MetricOptions& options = {});
OBS_API HistogramFamily histogram(std::string_view name, LabelKeys label_keys = {}, const MetricOptions& options = {});

}  // namespace obs
