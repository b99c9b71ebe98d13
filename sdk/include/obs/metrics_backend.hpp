#pragma once
// The interface a metrics destination implements. Measurements are
// aggregated in process; backends only ever see snapshots, either pushed
// to them on an interval (OTLP, Datadog style) or pulled by them on demand
// (Prometheus style, through the producer handed to attach()).
#include <chrono>
#include <functional>
#include <string_view>

#include "obs/metrics_snapshot.hpp"
#include "obs/resource.hpp"

namespace obs {

// Takes a fresh snapshot of every metric. Safe to call from any thread.
using MetricsProducer = std::function<MetricsSnapshot()>;

class MetricsBackend {
 public:
  virtual ~MetricsBackend() = default;
  virtual std::string_view name() const = 0;
  // Called once when the SDK starts, before any write().
  virtual void attach(const Resource& resource, MetricsProducer producer) {
    (void)resource;
    (void)producer;
  }
  // Push backends: the interval at which write() should be called. Zero
  // (the default) means the backend pulls and write() is never called.
  virtual std::chrono::milliseconds export_interval() const { return std::chrono::milliseconds(0); }
  // All called on the SDK's metrics thread (Sdk::flush/shutdown ask it
  // and wait, until their deadline), so never two at once. May throw
  // (caught and reported).
  virtual void write(const MetricsSnapshot& snapshot) { (void)snapshot; }
  virtual void flush() {}
  virtual void shutdown() {}
};

}  // namespace obs
