// The metrics store. Reads of existing series (the hot path) probe
// lock-free indexes; only creating a family or a series takes a mutex.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <variant>

#include "core/diagnostics.hpp"
#include "core/fork_locks.hpp"
#include "metrics/insert_only_index.hpp"
#include "text/utf8.hpp"
#include "obs/metric.hpp"
#include "obs/metrics_registry.hpp"
#include "text/ascii.hpp"

namespace obs {
namespace detail {

struct Series {
  std::uint64_t hash = 0;
  std::vector<std::string> values;
  bool overflow = false;
  // Counters and up-down counters both keep a CounterCell.
  std::variant<std::monostate, CounterCell, GaugeCell, HistogramCell> cell;
};

struct Family {
  Family(MetricsRegistry::Impl* r, std::size_t series_limit) : registry(r), limit(series_limit) {}
  std::uint64_t hash = 0;  // of the name, for the registry's index
  MetricsRegistry::Impl* registry;
  std::string name;  // OpenTelemetry name, as registered
  std::string unit;
  std::string description;
  MetricType type = MetricType::Counter;
  std::vector<std::string> keys;  // attribute keys, as registered
  std::vector<double> bounds;
  std::size_t limit;
  internal::InsertOnlyIndex<Series> index;
  std::atomic<bool> full{false};  // limit reached: new label sets go straight to overflow
  // A (up-down) counter's points are integers until a snapshot first finds
  // a fractional total; from then on they are doubles, for good, so an
  // exported series never changes type back and forth.
  mutable std::atomic<bool> fractional{false};

  std::mutex mutex;  // guards creation and the lists below
  std::vector<std::unique_ptr<Series>> series;
  std::unique_ptr<Series> overflow;
  // This family's series in obs_metric_series_overflow, bound on first overflow.
  std::atomic<CounterCell*> overflow_count{nullptr};
};

}  // namespace detail

namespace {
constexpr std::size_t kMaxFamilies = 4096;
constexpr std::size_t kMaxLabels = 16;
constexpr std::size_t kMaxLabelValueBytes = 1024;
constexpr std::size_t kMaxBuckets = 256;  // memory per series is buckets x shards x 8 bytes

enum class Reject { InvalidName, Conflict, LabelMismatch, InvalidLabelValue, NegativeIncrement, TooManyFamilies, kCount };
constexpr std::array<std::string_view, static_cast<std::size_t>(Reject::kCount)> kRejectReasons{
    "invalid_name", "conflict", "label_mismatch", "invalid_label_value", "negative_increment", "too_many_families"};

std::string_view type_name(MetricType t) {
  switch (t) {
    case MetricType::Counter: return "counter";
    case MetricType::UpDownCounter: return "up-down counter";
    case MetricType::Gauge: return "gauge";
    case MetricType::Histogram: return "histogram";
  }
  return "metric";
}

std::string key_list(const std::vector<std::string>& keys) {
  std::string out = "[";
  for (std::size_t i = 0; i < keys.size(); ++i) out += (i ? ", " : "") + keys[i];
  return out + "]";
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Prometheus sample names a family puts in the exposition (and its
// OpenMetrics family name), to refuse collisions such as a gauge "x_count"
// beside a histogram "x", or "a.b" beside "a_b".
std::vector<std::string> exposed_names(const std::string& prometheus_name, MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return {prometheus_name, prometheus_name.substr(0, prometheus_name.size() - 6)};  // without "_total"
    case MetricType::UpDownCounter:
    case MetricType::Gauge: return {prometheus_name};
    case MetricType::Histogram:
      return {prometheus_name, prometheus_name + "_bucket", prometheus_name + "_count", prometheus_name + "_sum"};
  }
  return {};
}

}  // namespace

struct MetricsRegistry::Impl {
  std::mutex mutex;  // registration
  std::vector<std::unique_ptr<detail::Family>> families;
  internal::InsertOnlyIndex<detail::Family> by_name;
  // Prometheus sample name -> the name it was registered under.
  // target_info (and "target", its OpenMetrics family) is the resource's.
  std::map<std::string, std::string, std::less<>> exposed{{"target_info", "(the resource's target_info)"},
                                                           {"target", "(the resource's target_info)"}};
  std::vector<Collector> collectors;
  std::atomic<std::size_t> default_limit{2000};

  std::array<Counter, static_cast<std::size_t>(Reject::kCount)> rejected;
  detail::Family* overflow_family_ptr = nullptr;

  void reject(Reject why, std::string_view key, const std::string& message) {
    rejected[static_cast<std::size_t>(why)].inc();
    internal::report_error(key, message);
  }

  detail::Family* find_family(std::string_view name) const {
    const std::uint64_t h = internal::hash_pieces(&name, 1);
    return by_name.find(h, [&](const detail::Family& f) { return f.name == name; });
  }

  // OpenTelemetry's instrument names are case-insensitive: "Requests" is the
  // instrument "requests" registered first, under its first spelling.
  // Registration only (under `mutex`): the hot paths look names up exactly.
  detail::Family* find_family_ignoring_case(std::string_view name) const {
    for (const auto& f : families)
      if (text::equals_ignoring_case(f->name, name)) return f.get();
    return nullptr;
  }

  // Never throws; on failure returns nullptr and sets `error` (already
  // reported). When `order` is given, an existing family whose label keys
  // are a permutation of `raw_keys` matches, and order[i] is the family's
  // index of raw_keys[i].
  detail::Family* register_family(std::string_view raw, MetricType type, std::span<const std::string_view> raw_keys,
                                  const MetricOptions& options, std::string& error,
                                  std::vector<std::uint8_t>* order = nullptr);
  detail::Family* register_locked(std::string_view raw, MetricType type, std::span<const std::string_view> raw_keys,
                                  const MetricOptions& options, std::string& error, Reject& why,
                                  std::vector<std::uint8_t>* order);
  void count_overflow(detail::Family* f);
  detail::Family* facade_family(std::string_view name, MetricType type, Tags tags);
  void* bind(detail::Family* f, std::span<const std::string_view> values);
  bool map_tags(detail::Family* f, Tags tags, std::array<std::string_view, kMaxLabels>& out);
};

detail::Family* MetricsRegistry::Impl::register_family(std::string_view raw, MetricType type,
                                                       std::span<const std::string_view> raw_keys,
                                                       const MetricOptions& options, std::string& error,
                                                       std::vector<std::uint8_t>* order) {
  Reject why = Reject::InvalidName;
  detail::Family* f = nullptr;
  try {
    f = register_locked(raw, type, raw_keys, options, error, why, order);
  } catch (const std::exception& e) {
    error = "metric '" + std::string(raw.substr(0, 200)) + "' not registered: " + e.what();
    why = Reject::TooManyFamilies;
  }
  // Reported here, with no registry lock held: the error handler is the
  // user's code and may well record a metric.
  if (!f) reject(why, "register:" + std::string(raw.substr(0, 200)), error);
  return f;
}

detail::Family* MetricsRegistry::Impl::register_locked(std::string_view raw, MetricType type,
                                                       std::span<const std::string_view> raw_keys,
                                                       const MetricOptions& options, std::string& error,
                                                       Reject& reason, std::vector<std::uint8_t>* order) {
  auto fail = [&](Reject why, std::string message) -> detail::Family* {
    error = std::move(message);
    reason = why;
    return nullptr;
  };
  if (!valid_instrument_name(raw, error)) return fail(Reject::InvalidName, error);
  const std::string name(raw);
  if (!valid_unit(options.unit, error)) return fail(Reject::InvalidName, "metric '" + name + "': " + error);
  const std::string prometheus_name = prometheus_metric_name(name, options.unit, type);
  if (type != MetricType::Counter && ends_with(prometheus_name, "_total"))
    return fail(Reject::InvalidName, std::string(type_name(type)) + " '" + name + "' would be '" + prometheus_name +
                                         "' in Prometheus, whose '_total' suffix is for counters");
  if (type == MetricType::Histogram && (ends_with(prometheus_name, "_bucket") || ends_with(prometheus_name, "_count") ||
                                        ends_with(prometheus_name, "_sum")))
    return fail(Reject::InvalidName, "histogram '" + name + "' would be '" + prometheus_name +
                                         "' in Prometheus, whose _bucket, _count and _sum suffixes its own series use");

  if (raw_keys.size() > kMaxLabels)
    return fail(Reject::InvalidName, "metric '" + name + "' has " + std::to_string(raw_keys.size()) +
                                         " label keys; at most " + std::to_string(kMaxLabels) + " are allowed");
  std::vector<std::string> keys;
  std::vector<std::string> label_names;  // the keys as Prometheus labels
  for (auto k : raw_keys) {
    if (!valid_attribute_key(k, error)) return fail(Reject::InvalidName, "metric '" + name + "': " + error);
    std::string key(k);
    std::string label = prometheus_label_name(key);
    if (type == MetricType::Histogram && label == "le")
      return fail(Reject::InvalidName, "histogram '" + name + "' cannot have a label key '" + key +
                                           "': Prometheus uses 'le' for buckets");
    if (label == "otel_metric_overflow")
      return fail(Reject::InvalidName, "metric '" + name + "': label 'otel_metric_overflow' is reserved for the overflow series");
    // /metrics adds these to every sample: a second one would make the
    // whole scrape invalid (a label name repeated).
    if (label == "otel_scope_name" || label == "otel_scope_version")
      return fail(Reject::InvalidName, "metric '" + name + "': label key '" + key + "' is '" + label +
                                           "' in Prometheus, which is reserved for the instrumentation scope");
    if (std::find(keys.begin(), keys.end(), key) != keys.end())
      return fail(Reject::InvalidName, "metric '" + name + "' lists label key '" + key + "' twice");
    if (auto same = std::find(label_names.begin(), label_names.end(), label); same != label_names.end())
      return fail(Reject::InvalidName, "metric '" + name + "': label keys '" + keys[same - label_names.begin()] +
                                           "' and '" + key + "' are both '" + label + "' in Prometheus");
    keys.push_back(std::move(key));
    label_names.push_back(std::move(label));
  }

  std::vector<double> bounds;
  if (type == MetricType::Histogram) {
    bounds = options.buckets.empty() ? default_buckets() : options.buckets;
    if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();  // +Inf is implicit
    if (bounds.size() > kMaxBuckets)
      return fail(Reject::InvalidName, "histogram '" + name + "' has " + std::to_string(bounds.size()) +
                                           " buckets; at most " + std::to_string(kMaxBuckets) + " are allowed");
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
        return fail(Reject::InvalidName, "histogram '" + name + "': bucket bounds must be finite and strictly ascending");
    }
  }

  std::lock_guard lock(mutex);
  detail::Family* existing = find_family(name);
  if (!existing) existing = find_family_ignoring_case(name);
  if (existing) {
    // Same keys in another order match too: the facade registers tag keys
    // sorted, and a bound registration may come after it.
    const bool same_keys = existing->keys == keys || (order && std::is_permutation(keys.begin(), keys.end(),
                                                                                   existing->keys.begin(),
                                                                                   existing->keys.end()));
    const bool buckets_ok = type != MetricType::Histogram || existing->bounds == bounds || options.buckets.empty();
    const bool unit_ok = options.unit.empty() || options.unit == existing->unit;
    if (existing->type == type && same_keys && buckets_ok && unit_ok) {
      if (order) {
        order->clear();
        if (existing->keys != keys)
          for (const auto& k : keys)
            order->push_back(static_cast<std::uint8_t>(
                std::find(existing->keys.begin(), existing->keys.end(), k) - existing->keys.begin()));
      }
      return existing;
    }
    std::string message = "metric '" + name + "' is already registered" +
                          (existing->name != name ? ", as '" + existing->name + "' (names are case-insensitive)," : "") +
                          " as a " + std::string(type_name(existing->type)) +
                          " with label keys " + key_list(existing->keys);
    if (existing->type == type && same_keys && !buckets_ok)
      message += " and other bucket bounds (register histograms with custom buckets before their first use)";
    else if (existing->type == type && same_keys)
      message += " and unit '" + existing->unit + "' (not '" + options.unit + "')";
    return fail(Reject::Conflict, message + "; cannot register it as a " + std::string(type_name(type)) +
                                      " with label keys " + key_list(keys));
  }
  const auto samples = exposed_names(prometheus_name, type);
  for (const auto& sample : samples) {
    auto it = exposed.find(sample);
    if (it != exposed.end())
      return fail(Reject::Conflict, "metric '" + name + "' would be '" + sample + "' in Prometheus, as metric '" +
                                        it->second + "' already is; rename one of them");
  }
  if (families.size() >= kMaxFamilies)
    return fail(Reject::TooManyFamilies, "metric '" + name + "' not registered: the registry already holds " +
                                             std::to_string(kMaxFamilies) + " metrics");

  const std::size_t limit = std::max<std::size_t>(1, options.series_limit ? options.series_limit : default_limit.load());
  auto f = std::make_unique<detail::Family>(this, limit);
  f->name = name;
  f->hash = internal::hash_pieces(std::array<std::string_view, 1>{f->name}.data(), 1);
  f->unit = options.unit;
  f->description = options.description;
  f->type = type;
  f->keys = std::move(keys);
  f->bounds = std::move(bounds);
  for (const auto& sample : samples) exposed.emplace(sample, name);
  detail::Family* raw_ptr = f.get();
  families.push_back(std::move(f));
  by_name.insert(raw_ptr);
  return raw_ptr;
}

detail::Family* MetricsRegistry::Impl::facade_family(std::string_view name, MetricType type, Tags tags) {
  detail::Family* f = find_family(name);
  if (!f) {
    // First use of this name: register with the tag keys, sorted.
    std::array<std::string_view, kMaxLabels + 1> keys;
    std::size_t n = 0;
    for (const Tag& t : tags) {
      if (n == keys.size()) break;
      keys[n++] = t.key();
    }
    std::sort(keys.begin(), keys.begin() + n);
    std::string error;
    std::vector<std::uint8_t> ignored;  // the facade maps tags by key, not by position
    f = register_family(name, type, std::span<const std::string_view>(keys.data(), n), {}, error, &ignored);
    if (!f) return nullptr;
  }
  if (f->type != type) {
    reject(Reject::Conflict, "type:" + f->name,
           "metric '" + f->name + "' is a " + std::string(type_name(f->type)) + "; it cannot be used as a " +
               std::string(type_name(type)));
    return nullptr;
  }
  return f;
}

bool MetricsRegistry::Impl::map_tags(detail::Family* f, Tags tags, std::array<std::string_view, kMaxLabels>& out) {
  bool ok = tags.size() == f->keys.size();
  for (std::size_t i = 0; ok && i < f->keys.size(); ++i) {
    ok = false;
    for (const Tag& t : tags) {
      if (t.key() == f->keys[i]) {
        out[i] = t.value();
        ok = true;
        break;
      }
    }
  }
  if (!ok) {
    std::vector<std::string> given;
    for (const Tag& t : tags) given.emplace_back(t.key().substr(0, 100));
    reject(Reject::LabelMismatch, "labels:" + f->name,
           "metric '" + f->name + "' has label keys " + key_list(f->keys) + "; a measurement came with tags " +
               key_list(given) + " and was dropped");
  }
  return ok;
}

void* MetricsRegistry::Impl::bind(detail::Family* f, std::span<const std::string_view> values) {
  auto cell_of = [](detail::Series* s) -> void* {
    return std::visit([](auto& c) -> void* {
      if constexpr (std::is_same_v<std::decay_t<decltype(c)>, std::monostate>) return nullptr;
      else return &c;
    }, s->cell);
  };
  if (values.size() != f->keys.size()) {
    reject(Reject::LabelMismatch, "labels:" + f->name,
           "metric '" + f->name + "' has label keys " + key_list(f->keys) + " but " + std::to_string(values.size()) +
               " label values were given");
    return nullptr;
  }
  const std::uint64_t h = internal::hash_pieces(values.data(), values.size());
  auto same = [&](const detail::Series& s) { return std::equal(values.begin(), values.end(), s.values.begin()); };
  if (detail::Series* s = f->index.find(h, same)) return cell_of(s);

  auto make_cell = [f](detail::Series& s) {
    switch (f->type) {
      case MetricType::Counter:
      case MetricType::UpDownCounter: s.cell.emplace<detail::CounterCell>(); break;
      case MetricType::Gauge: s.cell.emplace<detail::GaugeCell>(); break;
      case MetricType::Histogram: s.cell.emplace<detail::HistogramCell>(f->bounds.data(), f->bounds.size()); break;
    }
  };
  enum class Outcome { Found, Overflow, FirstOverflow, BadValue } outcome = Outcome::Overflow;
  detail::Series* found = nullptr;
  std::string problem;
  if (!f->full.load(std::memory_order_acquire)) {
    std::lock_guard lock(f->mutex);
    if ((found = f->index.find(h, same))) {
      outcome = Outcome::Found;
    } else if (f->series.size() < f->limit) {
      for (auto v : values) {
        if (v.size() > kMaxLabelValueBytes) problem = "is longer than " + std::to_string(kMaxLabelValueBytes) + " bytes";
        else if (!text::is_valid_utf8(v)) problem = "is not valid UTF-8";
      }
      if (problem.empty()) {
        auto s = std::make_unique<detail::Series>();
        s->hash = h;
        s->values.assign(values.begin(), values.end());
        make_cell(*s);
        found = s.get();
        f->series.push_back(std::move(s));
        f->index.insert(found);
        outcome = Outcome::Found;
      } else {
        outcome = Outcome::BadValue;
      }
    } else {
      if (!f->overflow) {
        f->overflow = std::make_unique<detail::Series>();
        f->overflow->overflow = true;
        make_cell(*f->overflow);
        outcome = Outcome::FirstOverflow;
      }
      f->full.store(true, std::memory_order_release);
    }
  }
  // Reports and self-metrics happen with no family lock held: the error
  // handler is user code, and the overflow self-metric is itself a family.
  switch (outcome) {
    case Outcome::Found: return cell_of(found);
    case Outcome::BadValue:
      reject(Reject::InvalidLabelValue, "value:" + f->name,
             "metric '" + f->name + "': a label value " + problem + "; the measurement was dropped");
      return nullptr;
    case Outcome::FirstOverflow:
      internal::report_error("overflow:" + f->name,
                             "metric '" + f->name + "' reached its limit of " + std::to_string(f->limit) +
                                 " label sets; new ones are counted in its otel_metric_overflow=\"true\" series");
      [[fallthrough]];
    case Outcome::Overflow: break;
  }
  count_overflow(f);
  return cell_of(f->overflow.get());
}

void MetricsRegistry::Impl::count_overflow(detail::Family* f) {
  detail::CounterCell* cell = f->overflow_count.load(std::memory_order_acquire);
  if (!cell) {
    // Two threads may bind at once; both get the same series.
    cell = static_cast<detail::CounterCell*>(detail::bind_series(
        overflow_family_ptr, std::array<std::string_view, 1>{f->name}));
    f->overflow_count.store(cell, std::memory_order_release);
  }
  if (cell) cell->add(std::uint64_t{1});
}

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {
  const std::string_view reason[] = {"reason"};
  auto rejected = counter("obs_metric_rejected", reason,
                          {.description = "Measurements or registrations refused, by reason; see the SDK's error output",
                           .series_limit = kRejectReasons.size()});
  for (std::size_t i = 0; i < kRejectReasons.size(); ++i) impl_->rejected[i] = rejected.labels(kRejectReasons[i]);
  const std::string_view metric[] = {"metric"};
  // One series per metric, so it can never overflow itself.
  std::string error;
  impl_->overflow_family_ptr = impl_->register_family(
      "obs_metric_series_overflow", MetricType::Counter, metric,
      {.description = "Measurements redirected to a metric's overflow series after its series limit",
       .series_limit = kMaxFamilies + 1},
      error);
}

MetricsRegistry::~MetricsRegistry() = default;

namespace {
// The global registry's locks, for fork() (see core/fork_locks.hpp): set
// by global(), which alone may reach into Impl.
MetricsRegistry* g_global_registry = nullptr;
void (*g_lock_registry)() = nullptr;
void (*g_unlock_registry)() = nullptr;
}  // namespace

MetricsRegistry& MetricsRegistry::global() {
  static auto* r = [] {
    auto* registry = new MetricsRegistry();  // never destroyed: handles stay valid in static destructors
    g_global_registry = registry;
    // Registration, then each family (the order bind() nests them in).
    g_lock_registry = [] {
      auto& impl = *g_global_registry->impl_;
      impl.mutex.lock();
      for (auto& f : impl.families) f->mutex.lock();
    };
    g_unlock_registry = [] {
      auto& impl = *g_global_registry->impl_;
      for (auto& f : impl.families) f->mutex.unlock();
      impl.mutex.unlock();
    };
    return registry;
  }();
  return *r;
}

namespace internal {
void lock_metrics_registry_for_fork() {
  MetricsRegistry::global();
  g_lock_registry();
}
void unlock_metrics_registry_after_fork() { g_unlock_registry(); }
}  // namespace internal

CounterFamily MetricsRegistry::counter(std::string_view name, std::span<const std::string_view> keys,
                                       const MetricOptions& options) {
  std::string error;
  std::vector<std::uint8_t> order;
  auto* f = impl_->register_family(name, MetricType::Counter, keys, options, error, &order);
  return CounterFamily(f, std::move(error), std::move(order));
}

UpDownCounterFamily MetricsRegistry::up_down_counter(std::string_view name, std::span<const std::string_view> keys,
                                                     const MetricOptions& options) {
  std::string error;
  std::vector<std::uint8_t> order;
  auto* f = impl_->register_family(name, MetricType::UpDownCounter, keys, options, error, &order);
  return UpDownCounterFamily(f, std::move(error), std::move(order));
}

GaugeFamily MetricsRegistry::gauge(std::string_view name, std::span<const std::string_view> keys,
                                   const MetricOptions& options) {
  std::string error;
  std::vector<std::uint8_t> order;
  auto* f = impl_->register_family(name, MetricType::Gauge, keys, options, error, &order);
  return GaugeFamily(f, std::move(error), std::move(order));
}

HistogramFamily MetricsRegistry::histogram(std::string_view name, std::span<const std::string_view> keys,
                                           const MetricOptions& options) {
  std::string error;
  std::vector<std::uint8_t> order;
  auto* f = impl_->register_family(name, MetricType::Histogram, keys, options, error, &order);
  return HistogramFamily(f, std::move(error), std::move(order));
}

void MetricsRegistry::increment(std::string_view name, double value, Tags tags) {
  if (!(value >= 0) || value > std::numeric_limits<double>::max()) {  // negative, NaN or +Inf
    impl_->reject(Reject::NegativeIncrement, "negative:" + std::string(name.substr(0, 200)),
                  "counter '" + std::string(name.substr(0, 200)) + "' was incremented by " + std::to_string(value) +
                      "; counters only go up by finite amounts, the measurement was dropped");
    return;
  }
  detail::Family* f = impl_->facade_family(name, MetricType::Counter, tags);
  std::array<std::string_view, kMaxLabels> values;
  if (!f || !impl_->map_tags(f, tags, values)) return;
  auto* cell = static_cast<detail::CounterCell*>(impl_->bind(f, std::span(values.data(), f->keys.size())));
  if (!cell) return;
  if (value == std::floor(value) && value < 9007199254740992.0) cell->add(static_cast<std::uint64_t>(value));
  else cell->add(value);
}

void MetricsRegistry::set_gauge(std::string_view name, double value, Tags tags) {
  detail::Family* f = impl_->facade_family(name, MetricType::Gauge, tags);
  std::array<std::string_view, kMaxLabels> values;
  if (!f || !impl_->map_tags(f, tags, values)) return;
  if (auto* cell = static_cast<detail::GaugeCell*>(impl_->bind(f, std::span(values.data(), f->keys.size()))))
    cell->set(value);
}

void MetricsRegistry::observe(std::string_view name, double value, Tags tags) {
  detail::Family* f = impl_->facade_family(name, MetricType::Histogram, tags);
  std::array<std::string_view, kMaxLabels> values;
  if (!f || !impl_->map_tags(f, tags, values)) return;
  if (auto* cell = static_cast<detail::HistogramCell*>(impl_->bind(f, std::span(values.data(), f->keys.size()))))
    cell->observe(value);
}

void MetricsRegistry::add_collector(Collector collector, const std::vector<std::string>& exposed_names) {
  std::lock_guard lock(impl_->mutex);
  impl_->collectors.push_back(std::move(collector));
  for (const auto& n : exposed_names) impl_->exposed.emplace(n, "(collected) " + n);
}

void MetricsRegistry::set_default_series_limit(std::size_t limit) { impl_->default_limit = limit ? limit : 1; }
std::size_t MetricsRegistry::default_series_limit() const { return impl_->default_limit; }

MetricsSnapshot MetricsRegistry::snapshot() const {
  MetricsSnapshot out;
  out.time = std::chrono::system_clock::now();
  std::vector<detail::Family*> families;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& f : impl_->families) families.push_back(f.get());
    collectors = impl_->collectors;
  }
  auto read = [](const detail::Family& f, const detail::Series& s) {
    SeriesSnapshot ss;
    ss.label_values = s.values;
    ss.overflow = s.overflow;
    if (auto* c = std::get_if<detail::CounterCell>(&s.cell)) {
      const auto sum = c->read();
      const auto whole = f.type == MetricType::Counter ? static_cast<double>(sum.whole)
                                                       : static_cast<double>(static_cast<std::int64_t>(sum.whole));
      ss.value = whole + sum.fraction;
      // Whole amounts added as doubles count as whole: only a fraction
      // makes the family's points doubles.
      const bool whole_fraction = sum.fraction == std::floor(sum.fraction) && std::fabs(sum.fraction) < 9007199254740992.0;
      if (!whole_fraction) f.fractional.store(true, std::memory_order_relaxed);
      else ss.int_value = static_cast<std::int64_t>(sum.whole + static_cast<std::uint64_t>(static_cast<std::int64_t>(sum.fraction)));
    } else if (auto* g = std::get_if<detail::GaugeCell>(&s.cell)) {
      ss.value = g->value();
    } else if (auto* h = std::get_if<detail::HistogramCell>(&s.cell)) {
      ss.histogram.bounds = f.bounds;
      ss.histogram.counts.assign(h->bucket_count(), 0);
      h->read(ss.histogram.counts.data(), ss.histogram.sum, ss.histogram.min, ss.histogram.max);
      ss.histogram.negative_observed = ss.histogram.min && *ss.histogram.min < 0;
      for (auto c : ss.histogram.counts) ss.histogram.count += c;
      ss.histogram.exemplars.resize(h->bucket_count());
      for (std::size_t i = 0; i < h->bucket_count(); ++i) ss.histogram.exemplars[i] = h->exemplar(i);
    }
    return ss;
  };
  for (detail::Family* f : families) {
    MetricFamilySnapshot fs;
    fs.name = f->name;
    fs.unit = f->unit;
    fs.description = f->description;
    fs.type = f->type;
    fs.label_keys = f->keys;
    std::lock_guard lock(f->mutex);
    fs.series.reserve(f->series.size() + (f->overflow ? 1 : 0));
    for (auto& s : f->series) fs.series.push_back(read(*f, *s));
    if (f->overflow) fs.series.push_back(read(*f, *f->overflow));
    fs.integer = (f->type == MetricType::Counter || f->type == MetricType::UpDownCounter) &&
                 !f->fractional.load(std::memory_order_relaxed);
    out.families.push_back(std::move(fs));
  }
  for (auto& c : collectors) {
    try {
      c(out.families);
    } catch (const std::exception& e) {
      internal::report_error("collector", std::string("a metrics collector threw: ") + e.what());
    } catch (...) {
      internal::report_error("collector", "a metrics collector threw an unknown exception");
    }
  }
  return out;
}

namespace detail {
void* bind_series(Family* family, std::span<const std::string_view> values) {
  return family->registry->bind(family, values);
}
}  // namespace detail

CounterFamily counter(std::string_view name, LabelKeys keys, const MetricOptions& options) {
  return MetricsRegistry::global().counter(name, std::span(keys.begin(), keys.size()), options);
}
UpDownCounterFamily up_down_counter(std::string_view name, LabelKeys keys, const MetricOptions& options) {
  return MetricsRegistry::global().up_down_counter(name, std::span(keys.begin(), keys.size()), options);
}
GaugeFamily gauge(std::string_view name, LabelKeys keys, const MetricOptions& options) {
  return MetricsRegistry::global().gauge(name, std::span(keys.begin(), keys.size()), options);
}
HistogramFamily histogram(std::string_view name, LabelKeys keys, const MetricOptions& options) {
  return MetricsRegistry::global().histogram(name, std::span(keys.begin(), keys.size()), options);
}

namespace metric {
void increment(std::string_view name, double value, Tags tags) { MetricsRegistry::global().increment(name, value, tags); }
void gauge(std::string_view name, double value, Tags tags) { MetricsRegistry::global().set_gauge(name, value, tags); }
void histogram(std::string_view name, double value, Tags tags) { MetricsRegistry::global().observe(name, value, tags); }
}  // namespace metric

}  // namespace obs
