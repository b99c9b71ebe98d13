#include "log/log_pipeline.hpp"

#include <exception>
#include <string>

#include "core/diagnostics.hpp"
#include "obs/metrics_registry.hpp"

namespace obs::internal {
namespace {
constexpr auto kIdleWait = std::chrono::milliseconds(100);
}  // namespace

LogPipeline::LogPipeline(std::shared_ptr<LogQueue> queue, Resource resource,
                         std::vector<std::shared_ptr<LogBackend>> backends, std::size_t batch_size)
    : state_(std::make_shared<State>()) {
  state_->queue = std::move(queue);
  state_->resource = std::move(resource);
  state_->batch_size = batch_size ? batch_size : 1;
  state_->batch.resize(state_->batch_size);
  auto& registry = MetricsRegistry::global();
  const std::string_view keys[] = {"signal", "backend"};
  auto exported = registry.counter("obs_exporter_exported", keys,
                                   {.help = "Records, spans or data points delivered to a backend"});
  auto failed = registry.counter("obs_exporter_failed", keys,
                                 {.help = "Records, spans or data points a backend failed to deliver"});
  for (auto& b : backends) {
    const std::string name(b->name());
    state_->backends.push_back({std::move(b), exported.labels("logs", name), failed.labels("logs", name)});
  }
}

LogPipeline::~LogPipeline() { shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5)); }

void LogPipeline::start() {
  thread_ = std::thread([state = state_] {
    try {
      state->run();
    } catch (...) {
      // Backend calls are guarded inside run(); this is the pipeline itself
      // failing (out of memory, say). Log calls keep being accepted and
      // dropped when the queue fills; flush and shutdown return.
      report_error("log-pipeline", "log pipeline stopped: " + describe(std::current_exception()));
      std::lock_guard lock(state->mutex);
      state->exited = true;
      state->progress.notify_all();
    }
  });
}

void LogPipeline::State::run() {
  std::uint64_t flush_done_seen = 0;
  for (;;) {
    const std::uint64_t flush_target = flush_requested.load();
    const bool stopping = stop.load();
    const std::size_t n = drain();
    if (n > 0) {
      deliver(n);
      continue;
    }
    // Queue empty: everything pushed before the flush request has been delivered.
    if (flush_target > flush_done_seen || stopping) {
      flush_backends();
      flush_done_seen = flush_target;
      std::lock_guard lock(mutex);
      flush_done = flush_target;
      progress.notify_all();
    }
    if (stopping) break;
    queue->wait(kIdleWait, [&] { return stop.load() || flush_requested.load() > flush_done_seen || queue->front(); });
  }
  for (auto& b : backends) {
    try {
      b.backend->shutdown();
    } catch (...) {
      report_error("log-shutdown-" + std::string(b.backend->name()),
                   "log backend '" + std::string(b.backend->name()) + "' failed to shut down: " +
                       describe(std::current_exception()));
    }
  }
  std::lock_guard lock(mutex);
  exited = true;
  progress.notify_all();
}

std::size_t LogPipeline::State::drain() {
  std::size_t n = 0;
  while (n < batch_size) {
    LogRecord* r = queue->front();
    if (!r) break;
    // Swap rather than copy: the slot keeps the batch entry's buffers, so
    // neither side allocates once warmed up.
    std::swap(batch[n], *r);
    queue->pop();
    ++n;
  }
  return n;
}

void LogPipeline::State::deliver(std::size_t n) {
  const LogBatch view{resource, std::span<const LogRecord>(batch.data(), n)};
  for (auto& b : backends) {
    try {
      b.backend->write(view);
      b.exported.inc(static_cast<std::uint64_t>(n));
    } catch (...) {
      b.failed.inc(static_cast<std::uint64_t>(n));
      report_error("log-write-" + std::string(b.backend->name()),
                   "log backend '" + std::string(b.backend->name()) + "' failed to write a batch of " +
                       std::to_string(n) + " records: " + describe(std::current_exception()));
    }
  }
}

void LogPipeline::State::flush_backends() {
  for (auto& b : backends) {
    try {
      b.backend->flush();
    } catch (...) {
      report_error("log-flush-" + std::string(b.backend->name()),
                   "log backend '" + std::string(b.backend->name()) + "' failed to flush: " +
                       describe(std::current_exception()));
    }
  }
}

bool LogPipeline::flush(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) return true;
  const std::uint64_t target = ++state_->flush_requested;
  state_->queue->wake_consumer();
  std::unique_lock lock(state_->mutex);
  return state_->progress.wait_until(lock, deadline,
                                     [&] { return state_->flush_done >= target || state_->exited; });
}

bool LogPipeline::shutdown(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) return true;
  bool exited;
  state_->stop = true;
  state_->queue->wake_consumer();
  {
    std::unique_lock lock(state_->mutex);
    exited = state_->progress.wait_until(lock, deadline, [&] { return state_->exited; });
  }
  if (exited) {
    thread_.join();
  } else {
    report_error("log-shutdown", "log pipeline did not stop within the shutdown deadline; a backend is stuck");
    thread_.detach();  // it owns a reference to its state and finishes alone
  }
  return exited;
}

}  // namespace obs::internal
