#pragma once
// A signal's export pipeline: one background thread drains a bounded queue
// in batches and hands each batch to every backend of that signal. Backend
// failures are caught, reported and counted; they never reach the
// application. Logs and spans each instantiate it with their Traits:
//   Record, Backend, Batch (constructible from {resource, span of records}),
//   kSignal ("logs"), kWhat ("log"), release_large_buffers(Record&).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/bounded_queue.hpp"
#include "core/call_deadline.hpp"
#include "core/counts_own_deliveries.hpp"
#include "core/diagnostics.hpp"
#include "core/self_metrics.hpp"
#include "obs/fields.hpp"
#include "obs/instruments.hpp"
#include "obs/resource.hpp"

namespace obs::internal {

namespace export_pipeline_detail {
inline constexpr auto kIdleWait = std::chrono::milliseconds(100);
// After a partial batch: how long the consumer naps (awake, so producers
// do not wake it) before looking again. Bounds the delay it adds.
inline constexpr auto kBusyNap = std::chrono::microseconds(200);
// Buffers bigger than this are released after delivery, so one huge
// message does not stay resident in a queue slot for the process's life.
inline constexpr std::size_t kKeepCapacity = 4096;

// Frees a field's value buffers beyond kKeepCapacity bytes (an array's
// elements counted together).
inline void release_large_buffers(OwnedField& f) {
  if (f.str.capacity() > kKeepCapacity) std::string().swap(f.str);
  std::size_t strings = f.strings.capacity() * sizeof(std::string);
  for (const auto& s : f.strings) strings += s.capacity();
  if (strings > kKeepCapacity) std::vector<std::string>().swap(f.strings);
  if (f.ints.capacity() * sizeof(std::int64_t) > kKeepCapacity) std::vector<std::int64_t>().swap(f.ints);
  if (f.doubles.capacity() * sizeof(double) > kKeepCapacity) std::vector<double>().swap(f.doubles);
  if (f.bools.capacity() / 8 > kKeepCapacity) std::vector<bool>().swap(f.bools);
}

inline std::int64_t to_ticks(std::chrono::steady_clock::time_point t) { return t.time_since_epoch().count(); }
inline std::chrono::steady_clock::time_point from_ticks(std::int64_t ticks) {
  return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ticks));
}

inline void raise_to(std::atomic<std::uint64_t>& target, std::uint64_t value) {
  std::uint64_t cur = target.load();
  while (cur < value && !target.compare_exchange_weak(cur, value)) {
  }
}
}  // namespace export_pipeline_detail

template <class Traits>
class ExportPipeline {
 public:
  using Record = typename Traits::Record;
  using Backend = typename Traits::Backend;
  using Batch = typename Traits::Batch;
  using Queue = BoundedQueue<Record>;

  // `queue` must have been acquired (BoundedQueue::try_acquire); the pipeline
  // releases it when its thread exits (or at destruction if never started).
  ExportPipeline(std::shared_ptr<Queue> queue, Resource resource, std::vector<std::shared_ptr<Backend>> backends,
                 std::size_t batch_size);
  ~ExportPipeline();

  void start();
  // Returns once every record pushed before the call has been handed to the
  // backends and their flush() has returned; false if the deadline came first.
  bool flush(std::chrono::steady_clock::time_point deadline) { return wait_flushed(request_flush(deadline), deadline); }
  // Delivers what was pushed before the call, stops the thread and shuts
  // the backends down. If the thread is still stuck in a backend at the
  // deadline it is left to finish alone (and keeps the queue until then).
  bool shutdown(std::chrono::steady_clock::time_point deadline) {
    request_stop(deadline);
    return wait_stopped(deadline);
  }
  // The two halves of each, so that Sdk can ask every pipeline first and
  // then wait: one stuck backend does not eat the others' deadline.
  std::uint64_t request_flush(std::chrono::steady_clock::time_point deadline);
  bool wait_flushed(std::uint64_t generation, std::chrono::steady_clock::time_point deadline);
  void request_stop(std::chrono::steady_clock::time_point deadline);
  bool wait_stopped(std::chrono::steady_clock::time_point deadline);

 private:
  struct BackendSlot {
    std::shared_ptr<Backend> backend;
    Counter exported;
    Counter failed;
    bool counts_itself;  // see CountsOwnDeliveries
  };
  struct State {
    std::shared_ptr<Queue> queue;
    Resource resource;
    std::vector<BackendSlot> backends;
    std::size_t batch_size;
    std::vector<Record> batch;

    // A flush request raises flush_target (a queue position, see
    // LogQueue::claimed) and then takes the next generation; the consumer
    // answers generation g once it has passed every target raised before g.
    std::atomic<std::uint64_t> flush_target{0};
    std::atomic<std::uint64_t> flush_requests{0};
    std::atomic<std::uint64_t> stop_target{0};
    std::atomic<bool> stop{false};
    // The deadlines of the latest flush and of shutdown, handed to the
    // backends' flush()/shutdown() (see call_deadline).
    std::atomic<std::int64_t> flush_deadline{0};
    std::atomic<std::int64_t> stop_deadline{0};
    std::mutex mutex;  // guards flushed and exited
    std::condition_variable progress;
    std::uint64_t flushed = 0;  // last flush generation answered
    bool flush_complete = true;  // whether the backends delivered everything for it
    bool exited = false;

    void run();
    std::size_t drain();
    void deliver(std::size_t n);
    // False if a backend could not deliver everything by the deadline.
    bool flush_backends(std::chrono::steady_clock::time_point deadline);
    void finish();
  };
  std::shared_ptr<State> state_;
  std::thread thread_;
  bool started_ = false;
};


template <class Traits>
ExportPipeline<Traits>::ExportPipeline(std::shared_ptr<Queue> queue, Resource resource,
                                       std::vector<std::shared_ptr<Backend>> backends, std::size_t batch_size)
    : state_(std::make_shared<State>()) {
  state_->queue = std::move(queue);
  state_->resource = std::move(resource);
  state_->batch_size = batch_size ? batch_size : 1;
  state_->batch.resize(state_->batch_size);
  const auto& counters = exporter_counters();
  for (auto& b : backends) {
    const std::string name(b->name());
    const bool counts_itself = dynamic_cast<const CountsOwnDeliveries*>(b.get()) != nullptr;
    state_->backends.push_back({std::move(b), counters.exported.labels(Traits::kSignal, name),
                                counters.failed.labels(Traits::kSignal, name), counts_itself});
  }
}

template <class Traits>
ExportPipeline<Traits>::~ExportPipeline() {
  if (thread_.joinable()) shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  else if (!started_) state_->queue->release();  // a detached thread still reads it, and releases it itself
}

template <class Traits>
void ExportPipeline<Traits>::start() {
  started_ = true;
  thread_ = std::thread([state = state_] {
    try {
      state->run();
    } catch (...) {
      // Backend calls are guarded inside run(); this is the pipeline itself
      // failing (out of memory, say). Log calls keep being accepted and
      // dropped when the queue fills; flush and shutdown return.
      report_error(std::string(Traits::kWhat) + "-pipeline", std::string(Traits::kWhat) + " pipeline stopped: " + describe(std::current_exception()));
    }
    state->finish();
  });
}

template <class Traits>
void ExportPipeline<Traits>::State::finish() {
  queue->release();
  std::lock_guard lock(mutex);
  exited = true;
  progress.notify_all();
}

template <class Traits>
void ExportPipeline<Traits>::State::run() {
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
      const bool complete =
          flush_backends(export_pipeline_detail::from_ticks(stop_reached ? stop_deadline.load() : flush_deadline.load()));
      answered = generation;
      std::lock_guard lock(mutex);
      flushed = generation;
      flush_complete = complete;
      progress.notify_all();
    }
    if (stop_reached) break;
    if (n > 0) {
      // A partial batch means the queue ran dry: nap briefly instead of
      // sleeping on the condition variable. Producers only pay for a
      // wake-up (a mutex and a futex call) when the consumer sleeps, so
      // under steady traffic this keeps that cost off the application's
      // threads, and the next batch is fuller; the delay is bounded by the
      // nap. A full batch means more is waiting: drain again at once.
      if (n < batch_size && !stop.load() && flush_requests.load() == answered)
        std::this_thread::sleep_for(export_pipeline_detail::kBusyNap);
      continue;
    }
    if ((flush_wanted && !flush_ready) || stopping) {
      // A producer has claimed the next slot and is still filling it (or
      // will have published it in a moment): poll until it is published.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    queue->wait(export_pipeline_detail::kIdleWait, [&] { return stop.load() || flush_requests.load() > answered || queue->has_front(); });
  }
  const CallDeadlineScope within(export_pipeline_detail::from_ticks(stop_deadline.load()));
  for (auto& b : backends) {
    try {
      b.backend->shutdown();
    } catch (...) {
      report_error(std::string(Traits::kWhat) + "-shutdown-" + std::string(b.backend->name()),
                   std::string(Traits::kWhat) + " backend '" + std::string(b.backend->name()) + "' failed to shut down: " +
                       describe(std::current_exception()));
    }
  }
}

template <class Traits>
std::size_t ExportPipeline<Traits>::State::drain() {
  std::size_t n = 0;
  bool valid = false;
  while (n < batch_size) {
    Record* r = queue->front(valid);
    if (!r) break;
    // Swap rather than copy: the slot keeps the batch entry's buffers, so
    // neither side allocates once warmed up. A record whose copy failed
    // (counted by the producer) is skipped.
    if (valid) {
      std::swap(batch[n], *r);
      // The slot now holds the batch entry's old buffers, which a producer
      // gets back on its next push: size them here, on this background
      // thread, so the application's thread does not allocate for them.
      if constexpr (requires { Traits::warm_slot(*r, batch[n]); }) {
        try {
          Traits::warm_slot(*r, batch[n]);
        } catch (...) {  // out of memory: the producer allocates instead
        }
      }
      ++n;
    }
    queue->pop();
  }
  return n;
}

template <class Traits>
void ExportPipeline<Traits>::State::deliver(std::size_t n) {
  const Batch view{resource, std::span<const Record>(batch.data(), n)};
  for (auto& b : backends) {
    try {
      b.backend->write(view);
      if (!b.counts_itself) b.exported.inc(static_cast<std::uint64_t>(n));
    } catch (...) {
      b.failed.inc(static_cast<std::uint64_t>(n));
      report_error(std::string(Traits::kWhat) + "-write-" + std::string(b.backend->name()),
                   std::string(Traits::kWhat) + " backend '" + std::string(b.backend->name()) + "' failed to write a batch of " +
                       std::to_string(n) + " records: " + describe(std::current_exception()));
    }
  }
  for (std::size_t i = 0; i < n; ++i) Traits::release_large_buffers(batch[i]);
}

template <class Traits>
bool ExportPipeline<Traits>::State::flush_backends(std::chrono::steady_clock::time_point deadline) {
  const CallDeadlineScope within(deadline);
  for (auto& b : backends) {
    try {
      b.backend->flush();
    } catch (...) {
      report_error(std::string(Traits::kWhat) + "-flush-" + std::string(b.backend->name()),
                   std::string(Traits::kWhat) + " backend '" + std::string(b.backend->name()) + "' failed to flush: " +
                       describe(std::current_exception()));
    }
  }
  return !within.incomplete();
}

template <class Traits>
std::uint64_t ExportPipeline<Traits>::request_flush(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) return 0;
  state_->flush_deadline = export_pipeline_detail::to_ticks(deadline);
  export_pipeline_detail::raise_to(state_->flush_target, state_->queue->claimed());
  const std::uint64_t generation = ++state_->flush_requests;
  state_->queue->wake_consumer();
  return generation;
}

template <class Traits>
bool ExportPipeline<Traits>::wait_flushed(std::uint64_t generation, std::chrono::steady_clock::time_point deadline) {
  if (generation == 0) return true;  // not running: nothing to flush
  std::unique_lock lock(state_->mutex);
  state_->progress.wait_until(lock, deadline, [&] { return state_->flushed >= generation || state_->exited; });
  return state_->flushed >= generation && state_->flush_complete;
}

template <class Traits>
void ExportPipeline<Traits>::request_stop(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable() || state_->stop.load()) return;
  state_->stop_deadline = export_pipeline_detail::to_ticks(deadline);
  export_pipeline_detail::raise_to(state_->stop_target, state_->queue->claimed());
  state_->stop = true;
  state_->queue->wake_consumer();
}

template <class Traits>
bool ExportPipeline<Traits>::wait_stopped(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) return true;
  bool exited;
  {
    std::unique_lock lock(state_->mutex);
    exited = state_->progress.wait_until(lock, deadline, [&] { return state_->exited; });
  }
  if (exited) {
    thread_.join();
  } else {
    report_error(std::string(Traits::kWhat) + "-shutdown", std::string(Traits::kWhat) + " pipeline did not stop within the shutdown deadline; a " + std::string(Traits::kWhat) + " backend is stuck");
    thread_.detach();  // it owns a reference to its state (and the queue) and finishes alone
  }
  return exited;
}

}  // namespace obs::internal
