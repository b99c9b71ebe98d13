#include "log/log_pipeline.hpp"

#include <exception>
#include <string>

#include "core/diagnostics.hpp"
#include "core/self_metrics.hpp"

namespace obs::internal {
namespace {
constexpr auto kIdleWait = std::chrono::milliseconds(100);
// Buffers bigger than this are released after delivery, so one huge
// message does not stay resident in a queue slot for the process's life.
constexpr std::size_t kKeepCapacity = 4096;

void raise_to(std::atomic<std::uint64_t>& target, std::uint64_t value) {
  std::uint64_t cur = target.load();
  while (cur < value && !target.compare_exchange_weak(cur, value)) {
  }
}
}  // namespace

LogPipeline::LogPipeline(std::shared_ptr<LogQueue> queue, Resource resource,
                         std::vector<std::shared_ptr<LogBackend>> backends, std::size_t batch_size)
    : state_(std::make_shared<State>()) {
  state_->queue = std::move(queue);
  state_->resource = std::move(resource);
  state_->batch_size = batch_size ? batch_size : 1;
  state_->batch.resize(state_->batch_size);
  const auto& counters = exporter_counters();
  for (auto& b : backends) {
    const std::string name(b->name());
    state_->backends.push_back(
        {std::move(b), counters.exported.labels("logs", name), counters.failed.labels("logs", name)});
  }
}

LogPipeline::~LogPipeline() {
  if (thread_.joinable()) shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  else state_->queue->release();
}

void LogPipeline::start() {
  thread_ = std::thread([state = state_] {
    try {
      state->run();
    } catch (...) {
      // Backend calls are guarded inside run(); this is the pipeline itself
      // failing (out of memory, say). Log calls keep being accepted and
      // dropped when the queue fills; flush and shutdown return.
      report_error("log-pipeline", "log pipeline stopped: " + describe(std::current_exception()));
    }
    state->finish();
  });
}

void LogPipeline::State::finish() {
  queue->release();
  std::lock_guard lock(mutex);
  exited = true;
  progress.notify_all();
}

void LogPipeline::State::run() {
  std::uint64_t answered = 0;  // flush generation
  for (;;) {
    const std::size_t n = drain();
    if (n > 0) deliver(n);
    const std::uint64_t pos = queue->position();
    const std::uint64_t generation = flush_requests.load();  // before the target: see State
    const bool flush_wanted = generation > answered;
    const bool flush_ready = flush_wanted && pos >= flush_target.load();
    const bool stopping = stop.load();
    const bool stop_reached = stopping && pos >= stop_target.load();
    if (flush_ready || stop_reached) {
      flush_backends();
      answered = generation;
      std::lock_guard lock(mutex);
      flushed = generation;
      progress.notify_all();
    }
    if (stop_reached) break;
    if (n > 0) continue;
    if ((flush_wanted && !flush_ready) || stopping) {
      // A producer has claimed the next slot and is still filling it (or
      // will have published it in a moment): poll until it is published.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    queue->wait(kIdleWait, [&] { return stop.load() || flush_requests.load() > answered || queue->has_front(); });
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
}

std::size_t LogPipeline::State::drain() {
  std::size_t n = 0;
  bool valid = false;
  while (n < batch_size) {
    LogRecord* r = queue->front(valid);
    if (!r) break;
    // Swap rather than copy: the slot keeps the batch entry's buffers, so
    // neither side allocates once warmed up. A record whose copy failed
    // (counted by the producer) is skipped.
    if (valid) std::swap(batch[n++], *r);
    queue->pop();
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
  for (std::size_t i = 0; i < n; ++i) {
    LogRecord& r = batch[i];
    if (r.message.capacity() > kKeepCapacity) std::string().swap(r.message);
    for (auto& f : r.fields)
      if (f.str.capacity() > kKeepCapacity) std::string().swap(f.str);
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
  raise_to(state_->flush_target, state_->queue->claimed());
  const std::uint64_t generation = ++state_->flush_requests;
  state_->queue->wake_consumer();
  std::unique_lock lock(state_->mutex);
  state_->progress.wait_until(lock, deadline, [&] { return state_->flushed >= generation || state_->exited; });
  return state_->flushed >= generation;
}

bool LogPipeline::shutdown(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) return true;
  raise_to(state_->stop_target, state_->queue->claimed());
  state_->stop = true;
  state_->queue->wake_consumer();
  bool exited;
  {
    std::unique_lock lock(state_->mutex);
    exited = state_->progress.wait_until(lock, deadline, [&] { return state_->exited; });
  }
  if (exited) {
    thread_.join();
  } else {
    report_error("log-shutdown", "log pipeline did not stop within the shutdown deadline; a log backend is stuck");
    thread_.detach();  // it owns a reference to its state (and the queue) and finishes alone
  }
  return exited;
}

}  // namespace obs::internal
