#pragma once
// In-memory backends for tests of code that uses obs: assert on the logs
// and metrics it emits.
//
//   auto logs = std::make_shared<obs::MemoryLogBackend>();
//   auto metrics = std::make_shared<obs::MemoryMetricsBackend>();
//   auto sdk = obs::init(obs::Config().console(false).admin(false)
//                            .add_log_backend(logs).add_metrics_backend(metrics));
//   ... code under test ...
//   sdk.flush();
//   EXPECT_TRUE(logs->contains("User logged in"));
//   EXPECT_EQ(metrics->value("comments_created", {{"region", "eu"}}), 1);
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "obs/export.hpp"
#include "obs/log_backend.hpp"
#include "obs/metrics_backend.hpp"

namespace obs {

class OBS_API MemoryLogBackend : public LogBackend {
 public:
  std::string_view name() const override { return "memory"; }
  void write(const LogBatch& batch) override;

  std::vector<LogRecord> records() const;
  bool contains(std::string_view message) const;
  // Waits until `pred` holds for the records received so far.
  bool wait_for(const std::function<bool(const std::vector<LogRecord>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  void clear();

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<LogRecord> records_;
};

class OBS_API MemoryMetricsBackend : public MetricsBackend {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  std::string_view name() const override { return "memory"; }
  void attach(const Resource& resource, MetricsProducer producer) override;

  MetricsSnapshot snapshot() const;
  // Counter, up-down counter or gauge value of the series with exactly
  // these labels, by the names registered ("http.server.active_requests",
  // {{"http.request.method", "GET"}}); nullopt if absent.
  std::optional<double> value(std::string_view name, const Labels& labels = {}) const;
  // A histogram series' observation count and sum.
  std::optional<std::pair<std::uint64_t, double>> histogram(std::string_view name, const Labels& labels = {}) const;

 private:
  mutable std::mutex mutex_;
  MetricsProducer producer_;
};

}  // namespace obs
