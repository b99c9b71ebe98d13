#pragma once
// The log pipeline: one background thread drains the queue in batches and
// hands each batch to every log backend. Backend failures are caught,
// reported and counted; they never reach the application.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "log/log_queue.hpp"
#include "obs/instruments.hpp"
#include "obs/log_backend.hpp"
#include "obs/resource.hpp"

namespace obs::internal {

class LogPipeline {
 public:
  // `queue` must have been acquired (LogQueue::try_acquire); the pipeline
  // releases it when its thread exits (or at destruction if never started).
  LogPipeline(std::shared_ptr<LogQueue> queue, Resource resource,
              std::vector<std::shared_ptr<LogBackend>> backends, std::size_t batch_size);
  ~LogPipeline();

  void start();
  // Returns once every record pushed before the call has been handed to the
  // backends and their flush() has returned; false if the deadline came first.
  bool flush(std::chrono::steady_clock::time_point deadline);
  // Delivers what was pushed before the call, stops the thread and shuts
  // the backends down. If the thread is still stuck in a backend at the
  // deadline it is left to finish alone (and keeps the queue until then).
  bool shutdown(std::chrono::steady_clock::time_point deadline);

 private:
  struct BackendSlot {
    std::shared_ptr<LogBackend> backend;
    Counter exported;
    Counter failed;
  };
  struct State {
    std::shared_ptr<LogQueue> queue;
    Resource resource;
    std::vector<BackendSlot> backends;
    std::size_t batch_size;
    std::vector<LogRecord> batch;

    // A flush request raises flush_target (a queue position, see
    // LogQueue::claimed) and then takes the next generation; the consumer
    // answers generation g once it has passed every target raised before g.
    std::atomic<std::uint64_t> flush_target{0};
    std::atomic<std::uint64_t> flush_requests{0};
    std::atomic<std::uint64_t> stop_target{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;  // guards flushed and exited
    std::condition_variable progress;
    std::uint64_t flushed = 0;  // last flush generation answered
    bool exited = false;

    void run();
    std::size_t drain();
    void deliver(std::size_t n);
    void flush_backends();
    void finish();
  };
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace obs::internal
