// BatchExporter's thread wakes only when there is something to do.
#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "export/batch_exporter.hpp"

namespace {

using namespace std::chrono_literals;

// Every send fails and asks for a retry in an hour: the exporter's thread
// then waits to retry, as it does while a receiver is down.
class DownTransport : public obs::internal::Transport {
 public:
  obs::internal::SendResult send(const std::string&) override {
    {
      std::lock_guard lock(mutex_);
      sender_ = static_cast<pid_t>(::syscall(SYS_gettid));
    }
    sent_.notify_all();
    obs::internal::SendResult r;
    r.outcome = obs::internal::SendResult::Outcome::Retry;
    r.retry_after = std::chrono::hours(1);
    r.problem = "down";
    r.kind = "down";
    return r;
  }
  const std::string& destination() const override { return destination_; }
  // The sending thread's id, once it has sent (0 if it never does).
  pid_t wait_for_sender() {
    std::unique_lock lock(mutex_);
    sent_.wait_for(lock, 30s, [&] { return sender_ != 0; });
    return sender_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable sent_;
  pid_t sender_ = 0;
  std::string destination_ = "nowhere";
};

// How often a thread has given up the CPU to wait (each wake-up from a
// condition variable wait ends one such wait).
long voluntary_switches(pid_t tid) {
  std::ifstream status("/proc/self/task/" + std::to_string(tid) + "/status");
  std::string key;
  long value = -1;
  while (status >> key) {
    if (key == "voluntary_ctxt_switches:") {
      status >> value;
      break;
    }
  }
  return value;
}

TEST(BatchExporter, AddsToAFullQueueDoNotWakeTheThreadWaitingToRetry) {
  obs::internal::ExporterSettings settings;
  settings.signal = "spans";
  settings.backend = "batch_exporter_test";
  settings.max_queue_size = 64;
  settings.max_batch_size = 8;
  settings.schedule_delay = 1ms;
  settings.max_export_time = std::chrono::hours(2);
  auto transport = std::make_unique<DownTransport>();
  auto* down = transport.get();
  obs::internal::BatchExporter<int> exporter(
      settings, std::move(transport),
      [](std::span<const int> items) { return std::vector<obs::internal::Payload>{{"x", items.size()}}; },
      [](const int&) { return std::uint64_t{1}; });
  for (int i = 0; i < 8; ++i) exporter.add(i);  // one batch: sent, refused, waiting to retry
  const pid_t tid = down->wait_for_sender();
  ASSERT_NE(tid, 0) << "the exporter never sent";
  for (int i = 0; i < 64; ++i) exporter.add(i);  // fills the queue
  const long before = voluntary_switches(tid);
  ASSERT_GE(before, 0);
  for (int i = 0; i < 20000; ++i) {
    exporter.add(i);  // dropped: the queue is full
    std::this_thread::yield();  // lets a woken thread run (and be counted) before the next add
  }
  const long after = voluntary_switches(tid);
  // Before the fix every one of these adds woke it (thousands of switches).
  EXPECT_LE(after - before, 5);
  exporter.shutdown(std::chrono::steady_clock::now() + 200ms);
}

}  // namespace
