// fork() with a running Sdk: the child gets working pipelines of its own
// and does not deliver what the parent had buffered; the parent goes on
// as if nothing happened.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "obs/backends/memory.hpp"
#include "obs/backends/memory_span.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/obs.hpp"
#include "support/fork_in_tests.hpp"

namespace {

using namespace std::chrono_literals;

// Records messages; write() waits while closed, so the pipeline holds
// what comes after in its queue.
class GatedLogBackend : public obs::LogBackend {
 public:
  std::string_view name() const override { return "gated"; }
  void write(const obs::LogBatch& batch) override {
    std::unique_lock lock(mutex_);
    ++writes_waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    --writes_waiting_;
    for (const auto& r : batch.records) messages_.push_back(r.message);
    changed_.notify_all();
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_a_waiting_write() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 30s, [&] { return writes_waiting_ > 0; });
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int writes_waiting_ = 0;
  bool open_ = false;
  std::vector<std::string> messages_;
};

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// The child's exit status, or -1 if it has not exited within a minute
// (then it is killed: a hung child fails the test instead of hanging it).
int wait_for_child(pid_t child) {
  int status = 0;
  for (int i = 0; i < 600; ++i) {
    const pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    ::poll(nullptr, 0, 100);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  return -1;
}

double dropped_logs(std::string_view reason) {
  for (const auto& f : obs::MetricsRegistry::global().snapshot().families)
    if (f.name == "obs_exporter_dropped")
      for (const auto& s : f.series)
        if (s.label_values[0] == "logs" && s.label_values[1] == reason) return s.value;
  return -1;
}

double counter_value(std::string_view name) {
  for (const auto& f : obs::MetricsRegistry::global().snapshot().families)
    if (f.name == name && !f.series.empty()) return f.series[0].value;
  return -1;
}

// The child's checks: each failure prints what failed and sets the exit code.
int child_after_fork(GatedLogBackend& logs, obs::MemorySpanBackend& spans, obs::Sdk& sdk, double things_at_fork) {
  int failures = 0;
  const auto check = [&](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "child: %s\n", what);
      ++failures;
    }
  };
  logs.open();  // this process's copy of the backend
  obs::log::info("child log");
  obs::metric::increment("fork_test_things");
  { obs::Span span("child span"); }
  check(sdk.flush(20s), "flush did not complete");
  const auto messages = logs.messages();
  check(has(messages, "child log"), "the child's log record was not delivered");
  for (const char* parent : {"parent 1", "parent 2", "parent 3"})
    check(!has(messages, parent), "the parent's buffered record was delivered by the child");
  check(spans.find("child span").has_value(), "the child's span was not delivered");
  check(!spans.find("parent span").has_value(), "the parent's span was delivered by the child");
  check(counter_value("fork_test_things") == things_at_fork + 1, "the child's counter is not the parent's plus its own 1");
  sdk.shutdown(20s);
  return failures;
}

TEST(Fork, TheChildHasPipelinesOfItsOwnAndTheParentIsUnaffected) {
  OBS_SKIP_FORK_TEST_UNDER_SANITIZERS();
  auto logs = std::make_shared<GatedLogBackend>();
  auto spans = std::make_shared<obs::MemorySpanBackend>();
  auto config = obs::Config().service("fork_test").console(false).with_prometheus(false).admin(false);
  config.process_metrics = false;
  config.add_log_backend(logs).add_span_backend(spans);
  auto sdk = obs::init(config);
  obs::metric::increment("fork_test_things");
  obs::metric::increment("fork_test_things");
  const double things = counter_value("fork_test_things");

  // The parent's log pipeline is inside write() with "parent 1", and has
  // "parent 2" and "parent 3" queued behind it, when it forks.
  obs::log::info("parent 1");
  ASSERT_TRUE(logs->wait_for_a_waiting_write());
  obs::log::info("parent 2");
  obs::log::info("parent 3");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(child_after_fork(*logs, *spans, sdk, things));
  EXPECT_EQ(wait_for_child(child), 0) << "failed checks in the child: see its messages above";

  // The parent delivers its own records, once, and none of the child's.
  logs->open();
  obs::log::info("parent after fork");
  { obs::Span span("parent span"); }
  ASSERT_TRUE(sdk.flush(20s));
  const auto messages = logs->messages();
  EXPECT_EQ(messages, (std::vector<std::string>{"parent 1", "parent 2", "parent 3", "parent after fork"}));
  EXPECT_TRUE(spans->find("parent span").has_value());
  EXPECT_FALSE(spans->find("child span").has_value());
  EXPECT_EQ(counter_value("fork_test_things"), things);
}

// A grandchild, and a child of a process whose Sdk is shut down.
TEST(Fork, ForksOfForksAndForksAfterShutdownWork) {
  OBS_SKIP_FORK_TEST_UNDER_SANITIZERS();
  auto spans = std::make_shared<obs::MemorySpanBackend>();
  auto config = obs::Config().service("fork_test").console(false).with_prometheus(false).admin(false);
  config.process_metrics = false;
  config.add_span_backend(spans);
  auto sdk = obs::init(config);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      { obs::Span span("grandchild span"); }
      ::_exit(sdk.flush(20s) && spans->find("grandchild span") ? 0 : 1);
    }
    const int grandchild_status = wait_for_child(grandchild);
    { obs::Span span("child span"); }
    ::_exit(grandchild_status == 0 && sdk.flush(20s) && spans->find("child span") ? 0 : 1);
  }
  EXPECT_EQ(wait_for_child(child), 0);

  sdk.shutdown(5s);
  const pid_t late = ::fork();
  ASSERT_GE(late, 0);
  if (late == 0) {
    // Nothing was restarted: the record is counted as dropped, not queued.
    const double before = dropped_logs("not_initialized");
    obs::log::info("dropped: no Sdk");
    ::_exit(dropped_logs("not_initialized") == before + 1 && sdk.flush(1s) ? 0 : 1);
  }
  EXPECT_EQ(wait_for_child(late), 0);
}

}  // namespace
