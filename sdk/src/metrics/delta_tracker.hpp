#pragma once
// Turns successive cumulative snapshots into deltas (internal), for push
// backends that report changes per interval (OTLP delta temporality,
// Datadog counts). Counters and histograms become the change since the
// previous snapshot; a series whose total went down was reset (its process
// restarted the count) and reports its new total. Gauges and up-down
// counters pass through.
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "obs/metrics_snapshot.hpp"

namespace obs::internal {

class DeltaTracker {
 public:
  explicit DeltaTracker(std::chrono::system_clock::time_point start) : previous_time_(start) {}

  // The change since the previous call (or since `start`, for the first).
  MetricsSnapshot next(const MetricsSnapshot& cumulative);
  // The start of the interval the last next() covered.
  std::chrono::system_clock::time_point interval_start() const { return interval_start_; }

 private:
  struct Previous {
    double value = 0;
    std::int64_t int_value = 0;
    std::uint64_t count = 0;
    double sum = 0;
    std::vector<std::uint64_t> buckets;
  };
  std::unordered_map<std::string, Previous> previous_;
  std::chrono::system_clock::time_point previous_time_;
  std::chrono::system_clock::time_point interval_start_;
};

}  // namespace obs::internal
