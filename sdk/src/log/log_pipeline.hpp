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
  LogPipeline(std::shared_ptr<LogQueue> queue, Resource resource,
              std::vector<std::shared_ptr<LogBackend>> backends, std::size_t batch_size);
  ~LogPipeline();

  void start();
  bool flush(std::chrono::steady_clock::time_point deadline);
  // Flushes, stops the thread and shuts the backends down. If the thread is
  // still stuck in a backend at the deadline it is left to finish alone.
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

    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> flush_requested{0};
    std::mutex mutex;  // guards flush_done and exited
    std::condition_variable progress;
    bool exited = false;
    std::uint64_t flush_done = 0;

    void run();
    std::size_t drain();
    void deliver(std::size_t n);
    void flush_backends();
  };
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace obs::internal
