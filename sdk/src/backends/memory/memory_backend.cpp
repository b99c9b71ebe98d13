#include <algorithm>

#include "obs/backends/memory.hpp"

namespace obs {

void MemoryLogBackend::write(const LogBatch& batch) {
  std::lock_guard lock(mutex_);
  records_.insert(records_.end(), batch.records.begin(), batch.records.end());
  changed_.notify_all();
}

std::vector<LogRecord> MemoryLogBackend::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

bool MemoryLogBackend::contains(std::string_view message) const {
  std::lock_guard lock(mutex_);
  return std::any_of(records_.begin(), records_.end(), [&](const LogRecord& r) { return r.message == message; });
}

bool MemoryLogBackend::wait_for(const std::function<bool(const std::vector<LogRecord>&)>& pred,
                                std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pred(records_); });
}

void MemoryLogBackend::clear() {
  std::lock_guard lock(mutex_);
  records_.clear();
}

void MemoryMetricsBackend::attach(const Resource&, MetricsProducer producer) {
  std::lock_guard lock(mutex_);
  producer_ = std::move(producer);
}

MetricsSnapshot MemoryMetricsBackend::snapshot() const {
  MetricsProducer producer;
  {
    std::lock_guard lock(mutex_);
    producer = producer_;
  }
  return producer ? producer() : MetricsSnapshot{};
}

namespace {
const SeriesSnapshot* find_series(const MetricsSnapshot& snap, std::string_view name,
                                  const MemoryMetricsBackend::Labels& labels, MetricType* type) {
  for (const auto& f : snap.families) {
    if (f.name != name) continue;
    for (const auto& s : f.series) {
      if (s.overflow) {
        if (labels.size() == 1 && labels[0].first == "otel_metric_overflow" && labels[0].second == "true") {
          *type = f.type;
          return &s;
        }
        continue;
      }
      if (labels.size() != f.label_keys.size()) continue;
      bool all = true;
      for (const auto& [k, v] : labels) {
        auto it = std::find(f.label_keys.begin(), f.label_keys.end(), k);
        if (it == f.label_keys.end() || s.label_values[static_cast<std::size_t>(it - f.label_keys.begin())] != v) {
          all = false;
          break;
        }
      }
      if (all) {
        *type = f.type;
        return &s;
      }
    }
  }
  return nullptr;
}
}  // namespace

std::optional<double> MemoryMetricsBackend::value(std::string_view name, const Labels& labels) const {
  const MetricsSnapshot snap = snapshot();
  MetricType type{};
  const SeriesSnapshot* s = find_series(snap, name, labels, &type);
  if (!s || type == MetricType::Histogram) return std::nullopt;
  return s->value;
}

std::optional<std::pair<std::uint64_t, double>> MemoryMetricsBackend::histogram(std::string_view name,
                                                                               const Labels& labels) const {
  const MetricsSnapshot snap = snapshot();
  MetricType type{};
  const SeriesSnapshot* s = find_series(snap, name, labels, &type);
  if (!s || type != MetricType::Histogram) return std::nullopt;
  return std::make_pair(s->histogram.count, s->histogram.sum);
}

}  // namespace obs
