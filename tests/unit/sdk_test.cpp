// obs::init end to end with in-memory backends: the log pipeline, drops,
// failing backends, the admin endpoints and init's error reporting.
#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <latch>
#include <nlohmann/json.hpp>

#include "core/diagnostics.hpp"
#include "obs/backends/memory.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/obs.hpp"
#include "support/prometheus_text.hpp"

namespace {

using namespace std::chrono_literals;

// Config with nothing on stdout and no fixed port.
obs::Config quiet() {
  return obs::Config().service("sdk_test").console(false).with_prometheus(false).admin(false);
}

double dropped(std::string_view reason) {
  const auto s = obs::MetricsRegistry::global().snapshot();
  for (const auto& f : s.families)
    if (f.name == "obs_exporter_dropped")
      for (const auto& series : f.series)
        if (series.label_values[0] == "logs" && series.label_values[1] == reason) return series.value;
  return 0;
}

class Errors {
 public:
  std::function<void(std::string_view)> handler() {
    return [this](std::string_view m) {
      std::lock_guard lock(mutex_);
      messages_.emplace_back(m);
      cv_.notify_all();
    };
  }
  bool wait_for(std::string_view needle) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 10s, [&] {
      for (auto& m : messages_)
        if (m.find(needle) != std::string::npos) return true;
      return false;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> messages_;
};

class SdkTest : public ::testing::Test {
 protected:
  void TearDown() override {
    obs::internal::set_error_handler(nullptr);
    obs::log::set_level(obs::log::Level::Info);
  }
};

TEST_F(SdkTest, LogsReachBackendsWithFieldsAndEnrichment) {
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto sdk = obs::init(quiet().env("test").service_version("9.9").add_log_backend(logs));
  ASSERT_TRUE(sdk.ok()) << sdk.errors().front();
  obs::log::info("User logged in", {{"user_id", 42}, {"admin", false}});
  obs::log::debug("below the level");
  ASSERT_TRUE(sdk.flush());
  const auto records = logs->records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].message, "User logged in");
  EXPECT_EQ(records[0].level, obs::log::Level::Info);
  ASSERT_EQ(records[0].fields.size(), 2u);
  EXPECT_EQ(records[0].fields[0].key, "user_id");
  EXPECT_EQ(records[0].fields[0].i, 42);
  EXPECT_NE(records[0].thread_id, 0u);
  EXPECT_EQ(sdk.resource().service, "sdk_test");
  EXPECT_EQ(sdk.resource().environment, "test");
  EXPECT_EQ(sdk.resource().version, "9.9");
  EXPECT_FALSE(sdk.resource().host.empty());
  EXPECT_EQ(sdk.resource().pid, static_cast<long>(::getpid()));
}

TEST_F(SdkTest, LevelComesFromConfig) {
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto sdk = obs::init(quiet().level(obs::log::Level::Debug).add_log_backend(logs));
  obs::log::trace("no");
  obs::log::debug("yes");
  EXPECT_TRUE(obs::log::enabled(obs::log::Level::Debug));
  EXPECT_FALSE(obs::log::enabled(obs::log::Level::Trace));
  sdk.flush();
  ASSERT_EQ(logs->records().size(), 1u);
  EXPECT_EQ(logs->records()[0].message, "yes");
}

TEST_F(SdkTest, ManyThreadsLoseNothingWhenTheQueueHasRoom) {
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto config = quiet().add_log_backend(logs);
  config.log_queue_capacity = 1 << 16;
  auto sdk = obs::init(config);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < 5000; ++i) obs::log::info("work", {{"t", t}, {"i", i}});
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(sdk.flush());
  EXPECT_EQ(logs->records().size(), 20000u);
}

// Blocks in write() until released, to fill the queue deterministically.
class GateBackend : public obs::LogBackend {
 public:
  std::string_view name() const override { return "gate"; }
  void write(const obs::LogBatch& batch) override {
    entered.count_down();
    release.wait();
    received += batch.records.size();
  }
  std::latch entered{1};
  std::latch release{1};
  std::atomic<std::size_t> received{0};
};

TEST_F(SdkTest, AFullQueueDropsTheNewestAndCountsThem) {
  auto gate = std::make_shared<GateBackend>();
  auto config = quiet().add_log_backend(gate);
  config.log_queue_capacity = 4;
  config.log_batch_size = 1;
  auto sdk = obs::init(config);
  const double before = dropped("queue_full");
  obs::log::info("first");
  gate->entered.wait();  // the pipeline holds "first" inside write()
  for (int i = 0; i < 10; ++i) obs::log::info("more");
  EXPECT_EQ(dropped("queue_full") - before, 6);  // 4 queued, 6 dropped
  gate->release.count_down();
  ASSERT_TRUE(sdk.flush());
  EXPECT_EQ(gate->received.load(), 5u);
}

TEST_F(SdkTest, LogsBeforeInitAreCountedAsDropped) {
  const double before = dropped("not_initialized");
  obs::log::warning("too early");
  EXPECT_EQ(dropped("not_initialized") - before, 1);
}

class ThrowingBackend : public obs::LogBackend {
 public:
  std::string_view name() const override { return "throwing"; }
  void write(const obs::LogBatch&) override { throw std::runtime_error("disk on fire"); }
  void flush() override { throw 42; }
};

TEST_F(SdkTest, AThrowingBackendIsReportedAndOthersKeepWorking) {
  Errors errors;
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto sdk = obs::init(quiet().add_log_backend(std::make_shared<ThrowingBackend>()).add_log_backend(logs)
                           .on_error(errors.handler()));
  obs::log::error("still delivered");
  EXPECT_TRUE(sdk.flush());
  EXPECT_TRUE(logs->contains("still delivered"));
  EXPECT_TRUE(errors.wait_for("log backend 'throwing' failed to write a batch of 1 records: disk on fire"));
  EXPECT_TRUE(errors.wait_for("log backend 'throwing' failed to flush: unknown exception"));
}

TEST_F(SdkTest, MetricsReachMemoryBackendThroughSnapshots) {
  auto metrics = std::make_shared<obs::MemoryMetricsBackend>();
  auto sdk = obs::init(quiet().add_metrics_backend(metrics));
  // The global registry outlives each test (and --gtest_repeat): compare deltas.
  const double comments = metrics->value("sdk_test.comments", {{"region", "eu"}}).value_or(0);
  const double png = metrics->value("sdk_test.conversions", {{"format", "png"}}).value_or(0);
  const auto duration = metrics->histogram("sdk_test.duration", {{"route", "/x"}}).value_or(std::pair<std::uint64_t, double>{0, 0});
  obs::metric::increment("sdk_test.comments", 1, {{"region", "eu"}});
  obs::metric::increment("sdk_test.comments", 2, {{"region", "eu"}});
  obs::metric::gauge("sdk_test.online", 17);
  obs::metric::histogram("sdk_test.duration", 0.25, {{"route", "/x"}});
  static auto conversions = obs::counter("sdk_test.conversions", {"format"});
  conversions.labels("png").inc();
  EXPECT_EQ(metrics->value("sdk_test.comments", {{"region", "eu"}}), comments + 3);
  EXPECT_EQ(metrics->value("sdk_test.online"), 17);
  EXPECT_EQ(metrics->value("sdk_test.conversions", {{"format", "png"}}), png + 1);
  const auto h = metrics->histogram("sdk_test.duration", {{"route", "/x"}});
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->first, duration.first + 1);
  EXPECT_EQ(h->second, duration.second + 0.25);
  EXPECT_FALSE(metrics->value("sdk_test.comments", {{"region", "us"}}).has_value());
}

TEST_F(SdkTest, PushBackendsGetPeriodicSnapshotsAndAFinalOneAtShutdown) {
  struct Push : obs::MetricsBackend {
    std::string_view name() const override { return "push"; }
    std::chrono::milliseconds export_interval() const override { return 20ms; }
    void write(const obs::MetricsSnapshot& s) override {
      std::lock_guard lock(m);
      ++writes;
      last = s;
      cv.notify_all();
    }
    std::mutex m;
    std::condition_variable cv;
    int writes = 0;
    obs::MetricsSnapshot last;
  };
  auto push = std::make_shared<Push>();
  auto sdk = obs::init(quiet().add_metrics_backend(push));
  {
    std::unique_lock lock(push->m);
    ASSERT_TRUE(push->cv.wait_for(lock, 10s, [&] { return push->writes >= 2; }));
  }
  obs::metric::increment("sdk_test.final", 1);
  sdk.shutdown();
  std::lock_guard lock(push->m);
  bool found = false;
  for (auto& f : push->last.families) found = found || f.name == "sdk_test.final";
  EXPECT_TRUE(found);
}

TEST_F(SdkTest, SecondInitWhileRunningIsRefusedCleanly) {
  auto first = obs::init(quiet());
  ASSERT_TRUE(first.ok());
  auto second = obs::init(quiet());
  EXPECT_FALSE(second.ok());
  ASSERT_EQ(second.errors().size(), 1u);
  EXPECT_NE(second.errors()[0].find("another obs::Sdk is running"), std::string::npos);
  second.shutdown();  // must not stop the first
  first.shutdown();
  auto third = obs::init(quiet());
  EXPECT_TRUE(third.ok());
}

TEST_F(SdkTest, ShutdownIsIdempotentAndMovedFromHandlesAreInert) {
  auto sdk = obs::init(quiet());
  obs::Sdk moved = std::move(sdk);
  moved.shutdown();
  moved.shutdown();
  EXPECT_TRUE(moved.flush());
  sdk.shutdown();  // NOLINT(bugprone-use-after-move): documented as safe
}

TEST_F(SdkTest, DisabledSdkStartsNothing) {
  auto config = quiet().admin(true).admin_address("127.0.0.1", 0);
  config.disabled = true;
  auto sdk = obs::init(config);
  EXPECT_TRUE(sdk.ok());
  EXPECT_EQ(sdk.admin_port(), 0);
}

TEST_F(SdkTest, ConfigErrorsAreReportedByInitWhichStillStarts) {
  auto config = obs::Config::from_env([](const char* n) -> const char* {
    return std::string_view(n) == "LOG_LEVEL" ? "chatty" : nullptr;
  });
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  config.console(false).with_prometheus(false).admin(false).add_log_backend(logs);
  auto sdk = obs::init(config);
  EXPECT_FALSE(sdk.ok());
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_NE(sdk.errors()[0].find("LOG_LEVEL='chatty'"), std::string::npos);
  obs::log::info("works anyway");
  sdk.flush();
  EXPECT_TRUE(logs->contains("works anyway"));
}

// --- admin server -----------------------------------------------------------

class AdminTest : public SdkTest {
 protected:
  void SetUp() override {
    sdk_ = obs::init(quiet().with_prometheus(true).admin(true).admin_address("127.0.0.1", 0));
    ASSERT_TRUE(sdk_.ok()) << sdk_.errors().front();
    ASSERT_NE(sdk_.admin_port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", sdk_.admin_port());
    client_->set_read_timeout(10, 0);
  }
  void TearDown() override {
    for (auto name : {"db", "cache", "hangs", "throws"}) obs::health::remove_readiness_check(name);
    sdk_.shutdown();
    SdkTest::TearDown();
  }
  obs::Sdk sdk_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(AdminTest, MetricsEndpointServesPrometheusText) {
  // Unique per run: the global registry outlives each test.
  static int run = 0;
  const std::string route = "/x" + std::to_string(++run);
  obs::metric::increment("admin_test.hits", 1, {{"route", route}});
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res->body.find("\nadmin_test_hits_total{route=\"" + route + "\"," + obs_test::kScopeLabels + "} 1\n"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("process_resident_memory_bytes "), std::string::npos);
}

TEST_F(AdminTest, HealthIsJsonLiveness) {
  auto res = client_->Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["service"], "sdk_test");
}

TEST_F(AdminTest, ReadyWhenEveryCheckPasses) {
  obs::health::add_readiness_check("db", [] { return obs::health::CheckResult(true, "3 connections"); });
  obs::health::add_readiness_check("cache", [] { return true; });
  auto res = client_->Get("/health/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["status"], "ready");
  EXPECT_EQ(j["checks"]["db"]["status"], "ok");
  EXPECT_EQ(j["checks"]["db"]["detail"], "3 connections");
}

TEST_F(AdminTest, NotReadyNamesTheFailingHangingAndThrowingChecks) {
  auto release = std::make_shared<std::latch>(1);
  obs::health::add_readiness_check("db", [] { return obs::health::CheckResult(false, "connection refused"); });
  obs::health::add_readiness_check("hangs", [release] { release->wait(); return true; }, 100ms);
  obs::health::add_readiness_check("throws", []() -> obs::health::CheckResult { throw std::runtime_error("bad"); });
  auto res = client_->Get("/health/ready");
  release->count_down();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  const auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["status"], "not_ready");
  EXPECT_EQ(j["failing"], (nlohmann::json{"db", "hangs", "throws"}));
  EXPECT_EQ(j["checks"]["db"]["status"], "failed");
  EXPECT_EQ(j["checks"]["hangs"]["status"], "timeout");
  EXPECT_EQ(j["checks"]["throws"]["status"], "error");
  // The exception text stays out of the answer: it may hold a password.
  EXPECT_EQ(j["checks"]["throws"]["detail"], "the check threw an exception (see the service's error output)");
}

TEST_F(AdminTest, PortInUseIsReportedAndEverythingElseWorks) {
  const auto taken = sdk_.admin_port();
  sdk_.shutdown();
  // Hold the port with a plain listening socket, then ask obs for it.
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(taken);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(holder, 1), 0);
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto sdk = obs::init(quiet().admin(true).admin_address("127.0.0.1", taken).add_log_backend(logs));
  EXPECT_FALSE(sdk.ok());
  ASSERT_EQ(sdk.errors().size(), 1u);
  EXPECT_NE(sdk.errors()[0].find("cannot listen on 127.0.0.1:" + std::to_string(taken)), std::string::npos)
      << sdk.errors()[0];
  EXPECT_EQ(sdk.admin_port(), 0);
  obs::log::info("still logging");
  sdk.flush();
  EXPECT_TRUE(logs->contains("still logging"));
  ::close(holder);
}

TEST_F(AdminTest, ASecondServerCannotShareTheAdminPort) {
  // cpp-httplib's default SO_REUSEPORT would let this bind succeed.
  httplib::Server other;
  EXPECT_FALSE(other.bind_to_port("127.0.0.1", sdk_.admin_port()));
}

}  // namespace

namespace {

TEST_F(SdkTest, AnErrorHandlerMayRecordMetricsWithoutDeadlocking) {
  auto sdk = obs::init(quiet().on_error([](std::string_view) { obs::metric::increment("sdk_test.sdk_errors"); }));
  ASSERT_TRUE(obs::counter("sdk_test.conflicted", {}).ok());
  EXPECT_FALSE(obs::gauge("sdk_test.conflicted", {}).ok());  // reported to the handler, which records a metric
  obs::metric::increment("sdk_test.conflicted", 1, {{"unexpected", "tag"}});
  const auto s = obs::MetricsRegistry::global().snapshot();
  bool counted = false;
  for (const auto& f : s.families) counted = counted || (f.name == "sdk_test.sdk_errors" && f.series.at(0).value >= 1);
  EXPECT_TRUE(counted);
}

}  // namespace
