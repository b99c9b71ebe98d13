// Sdk::flush and Sdk::shutdown return by their deadline whatever the
// backends do (stuck in write or flush, a full queue, a slow admin
// client), when called twice or from several threads at once; and with
// healthy backends, everything buffered is delivered.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/diagnostics.hpp"
#include "obs/backends/memory.hpp"
#include "obs/backends/memory_span.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/obs.hpp"
#include "support/errors.hpp"

namespace {

using namespace std::chrono_literals;

// Closed until open(); counts the calls waiting in it. Shared with the
// backends (and so with any pipeline thread left running on them).
class Gate {
 public:
  void pass() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_callers(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 30s, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

class StuckLogBackend : public obs::LogBackend {
 public:
  explicit StuckLogBackend(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  std::string_view name() const override { return "stuck"; }
  void write(const obs::LogBatch&) override { gate_->pass(); }

 private:
  std::shared_ptr<Gate> gate_;
};

class StuckSpanBackend : public obs::SpanBackend {
 public:
  explicit StuckSpanBackend(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  std::string_view name() const override { return "stuck"; }
  void write(const obs::SpanBatch&) override { gate_->pass(); }

 private:
  std::shared_ptr<Gate> gate_;
};

// A push backend whose flush() never returns (a network call with no timeout).
class StuckMetricsBackend : public obs::MetricsBackend {
 public:
  explicit StuckMetricsBackend(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  std::string_view name() const override { return "stuck"; }
  std::chrono::milliseconds export_interval() const override { return std::chrono::hours(1); }
  void flush() override { gate_->pass(); }

 private:
  std::shared_ptr<Gate> gate_;
};

using obs_test::Errors;

obs::Config quiet(Errors& errors) {
  auto c = obs::Config().service("shutdown_test").console(false).with_prometheus(false).admin(false);
  c.process_metrics = false;
  c.error_handler = errors.handler();
  return c;
}

// Runs `call` on a thread of its own and says whether it returned while
// the backends are still stuck (they stay stuck until the test opens them,
// after this check). A call that waits for a stuck backend never returns,
// so the limit only has to be long enough for a loaded machine.
bool returns_while_stuck(std::function<void()> call) {
  struct Done {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  std::thread([call = std::move(call), done] {
    call();
    std::lock_guard lock(done->mutex);
    done->done = true;
    done->cv.notify_all();
  }).detach();  // if it never returns, the test fails and the process ends with it
  std::unique_lock lock(done->mutex);
  return done->cv.wait_for(lock, 30s, [&] { return done->done; });
}

TEST(Shutdown, ReturnsByItsDeadlineWhileEveryBackendIsStuck) {
  Errors errors;
  auto gate = std::make_shared<Gate>();
  auto config = quiet(errors);
  config.add_log_backend(std::make_shared<StuckLogBackend>(gate))
      .add_span_backend(std::make_shared<StuckSpanBackend>(gate))
      .add_metrics_backend(std::make_shared<StuckMetricsBackend>(gate));
  auto sdk = std::make_shared<obs::Sdk>(obs::init(config));
  obs::log::info("stuck in write");
  { obs::Span span("stuck in write"); }
  ASSERT_TRUE(gate->wait_for_callers(2));  // the log and the span pipeline threads

  EXPECT_TRUE(returns_while_stuck([sdk] { EXPECT_FALSE(sdk->flush(200ms)); }));
  EXPECT_TRUE(returns_while_stuck([sdk] { sdk->shutdown(300ms); }));
  EXPECT_EQ(errors.count("log pipeline did not stop within the shutdown deadline"), 1u);
  EXPECT_EQ(errors.count("span pipeline did not stop within the shutdown deadline"), 1u);
  EXPECT_EQ(errors.count("metrics export did not stop within the shutdown deadline"), 1u);
  // Calls made after shutdown are accepted and counted as dropped.
  obs::log::info("after shutdown");
  { obs::Span span("after shutdown"); }
  gate->open();  // the threads left behind finish now
}

TEST(Shutdown, AFullQueueBehindAStuckBackendDoesNotHoldItUp) {
  Errors errors;
  auto gate = std::make_shared<Gate>();
  auto config = quiet(errors);
  config.log_queue_capacity = 64;
  config.log_batch_size = 16;
  config.add_log_backend(std::make_shared<StuckLogBackend>(gate));
  auto sdk = std::make_shared<obs::Sdk>(obs::init(config));
  for (int i = 0; i < 1000; ++i) obs::log::info("filling the queue");
  ASSERT_TRUE(gate->wait_for_callers(1));
  EXPECT_TRUE(returns_while_stuck([sdk] { sdk->shutdown(200ms); }));
  gate->open();
}

TEST(Shutdown, ConcurrentAndRepeatedCallsAllReturn) {
  Errors errors;
  auto gate = std::make_shared<Gate>();
  auto config = quiet(errors);
  config.add_span_backend(std::make_shared<StuckSpanBackend>(gate));
  auto sdk = std::make_shared<obs::Sdk>(obs::init(config));
  { obs::Span span("stuck"); }
  ASSERT_TRUE(gate->wait_for_callers(1));
  // The flushes give up sooner than the shutdowns, so that one of the
  // shutdowns always gets its turn: exactly one of them does the work.
  EXPECT_TRUE(returns_while_stuck([sdk] {
    std::vector<std::thread> callers;
    for (int i = 0; i < 2; ++i) {
      callers.emplace_back([sdk] { sdk->shutdown(3s); });
      callers.emplace_back([sdk] { sdk->flush(100ms); });  // false, or true once shut down
    }
    for (auto& t : callers) t.join();
  }));
  EXPECT_EQ(errors.count("span pipeline did not stop within the shutdown deadline"), 1u);
  EXPECT_TRUE(returns_while_stuck([sdk] {
    sdk->shutdown(300ms);  // again: nothing left to do
    EXPECT_TRUE(sdk->flush(300ms));
  }));
  EXPECT_EQ(errors.count("span pipeline did not stop within the shutdown deadline"), 1u);
  gate->open();
}

TEST(Shutdown, HealthyBackendsGetEverythingBuffered) {
  Errors errors;
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto spans = std::make_shared<obs::MemorySpanBackend>();
  auto config = quiet(errors);
  config.log_queue_capacity = 16384;
  config.span_queue_capacity = 4096;
  config.add_log_backend(logs).add_span_backend(spans);
  auto sdk = obs::init(config);
  constexpr int kLogs = 10000, kSpans = 3000;
  std::thread spanner([] {
    for (int i = 0; i < kSpans; ++i) obs::Span span("buffered");
  });
  for (int i = 0; i < kLogs; ++i) obs::log::info("buffered");
  spanner.join();
  sdk.shutdown(30s);
  EXPECT_EQ(logs->records().size(), static_cast<std::size_t>(kLogs));
  EXPECT_EQ(spans->spans().size(), static_cast<std::size_t>(kSpans));
}

// A scraper that reads /metrics a few bytes at a time: the server thread
// answering it stays in its write (each read lets it make progress, so
// cpp-httplib's write timeout never fires) for as long as the client
// keeps reading. /metrics is made larger than the socket buffers first.
class SlowAdminClient {
 public:
  explicit SlowAdminClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int small = 4096;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                 ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
    // The start of the answer: the server thread is now writing it.
    char buf[64];
    connected_ = connected_ && ::recv(fd_, buf, sizeof buf, 0) > 0;
    thread_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      char byte[16];
      while (!stop_ && ::recv(fd_, byte, sizeof byte, 0) > 0) stopped_.wait_for(lock, 50ms, [&] { return stop_; });
    });
  }
  ~SlowAdminClient() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    stopped_.notify_all();
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  bool connected() const { return connected_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool stop_ = false;
  std::thread thread_;
};

TEST(Shutdown, ASlowAdminClientDoesNotHoldItUp) {
  Errors errors;
  auto config = quiet(errors).admin(true).with_prometheus(true);
  config.admin_bind_address = "127.0.0.1";
  config.admin_port = 0;
  auto sdk = std::make_shared<obs::Sdk>(obs::init(config));
  ASSERT_NE(sdk->admin_port(), 0);
  // About 8 MB of /metrics: more than the kernel buffers on both sides.
  auto many = obs::MetricsRegistry::global().counter("shutdown_test_many_series", {"id"}, {.series_limit = 100000});
  for (int i = 0; i < 100000; ++i) many.labels("a-label-value-long-enough-to-fill-the-buffers-" + std::to_string(i)).inc();
  SlowAdminClient client(sdk->admin_port());
  ASSERT_TRUE(client.connected());
  // The client reads until it is destroyed, so waiting for it never ends.
  EXPECT_TRUE(returns_while_stuck([sdk] { sdk->shutdown(300ms); }));
  // Its connection is cut at the deadline, so the server did stop in time.
  EXPECT_EQ(errors.count("admin server did not stop within the shutdown deadline"), 0u);
  EXPECT_GE(obs::MetricsRegistry::global()
                .counter("obs_http_server_refused", {"reason"})
                .labels("cut_at_shutdown")
                .value(),
            1.0);
}

}  // namespace
