// The log queue and pipeline directly: flush semantics with slots still
// being filled, failed copies, queue ownership, and per-record bounds.
#include <gtest/gtest.h>

#include <future>
#include <latch>
#include <thread>

#include "log/log_channel.hpp"
#include "log/log_pipeline.hpp"
#include "obs/backends/memory.hpp"
#include "obs/obs.hpp"

namespace {

using namespace std::chrono_literals;
using obs::internal::LogPipeline;
using obs::internal::LogQueue;

auto far() { return std::chrono::steady_clock::now() + 30s; }

auto message(std::string text) {
  return [text = std::move(text)](obs::LogRecord& r) { r.message = text; };
}

struct Pipeline {
  explicit Pipeline(std::size_t capacity = 64) : queue(std::make_shared<LogQueue>(capacity)) {
    EXPECT_TRUE(queue->try_acquire());
    pipeline = std::make_unique<LogPipeline>(queue, obs::Resource{"unit", "", "", "h", 1, {}},
                                             std::vector<std::shared_ptr<obs::LogBackend>>{memory}, 16);
    pipeline->start();
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (auto& r : memory->records()) out.push_back(r.message);
    return out;
  }
  std::shared_ptr<obs::MemoryLogBackend> memory = std::make_shared<obs::MemoryLogBackend>();
  std::shared_ptr<LogQueue> queue;
  std::unique_ptr<LogPipeline> pipeline;
};

TEST(LogPipeline, FlushWaitsForASlotAProducerIsStillFilling) {
  Pipeline p;
  std::latch entered(1), release(1);
  std::thread slow([&] {
    p.queue->try_push([&](obs::LogRecord& r) {
      entered.count_down();
      release.wait();
      r.message = "slow";
    });
    p.queue->notify_consumer();
  });
  entered.wait();  // "slow" has claimed its slot and is copying
  ASSERT_EQ(p.queue->try_push(message("fast")), LogQueue::Push::Ok);
  auto flushed = std::async(std::launch::async, [&] { return p.pipeline->flush(far()); });
  release.count_down();
  slow.join();
  ASSERT_TRUE(flushed.get());
  // Everything pushed before flush() was delivered when it returned true.
  EXPECT_EQ(p.messages(), (std::vector<std::string>{"slow", "fast"}));
}

TEST(LogPipeline, AFailedCopyIsSkippedAndDoesNotStopTheQueue) {
  Pipeline p;
  EXPECT_EQ(p.queue->try_push([](obs::LogRecord&) { throw std::bad_alloc(); }), LogQueue::Push::Failed);
  EXPECT_EQ(p.queue->try_push(message("after")), LogQueue::Push::Ok);
  ASSERT_TRUE(p.pipeline->flush(far()));
  EXPECT_EQ(p.messages(), std::vector<std::string>{"after"});
}

TEST(LogPipeline, FlushCompletesWhileProducersKeepLogging) {
  Pipeline p(1024);
  ASSERT_EQ(p.queue->try_push(message("marker")), LogQueue::Push::Ok);  // before the noise can fill the queue
  std::atomic<bool> stop{false};
  std::thread producer([&] {
    while (!stop) {
      p.queue->try_push(message("noise"));
      p.queue->notify_consumer();
    }
  });
  const bool flushed = p.pipeline->flush(far());
  const bool delivered = p.memory->contains("marker");
  stop = true;
  producer.join();
  EXPECT_TRUE(flushed);
  EXPECT_TRUE(delivered);
}

TEST(LogPipeline, EveryFlushReachesTheBackendsEvenWithNothingNew) {
  struct CountFlushes : obs::LogBackend {
    std::string_view name() const override { return "count"; }
    void write(const obs::LogBatch&) override {}
    void flush() override { ++flushes; }
    std::atomic<int> flushes{0};
  };
  auto backend = std::make_shared<CountFlushes>();
  auto queue = std::make_shared<LogQueue>(8);
  ASSERT_TRUE(queue->try_acquire());
  LogPipeline pipeline(queue, {}, {backend}, 4);
  pipeline.start();
  ASSERT_TRUE(pipeline.flush(far()));
  ASSERT_TRUE(pipeline.flush(far()));
  EXPECT_EQ(backend->flushes.load(), 2);
}

TEST(LogPipeline, ShutdownDeliversEverythingPushedBefore) {
  Pipeline p;
  for (int i = 0; i < 40; ++i) ASSERT_EQ(p.queue->try_push(message(std::to_string(i))), LogQueue::Push::Ok);
  ASSERT_TRUE(p.pipeline->shutdown(far()));
  EXPECT_EQ(p.messages().size(), 40u);
}

TEST(LogQueue, AQueueIsHandedToOneConsumerAtATime) {
  auto a = obs::internal::log_queue(32);
  auto b = obs::internal::log_queue(32);
  EXPECT_NE(a, b);  // a is still in use
  a->release();
  EXPECT_EQ(obs::internal::log_queue(32), a);
  a->release();
  b->release();
}

TEST(LogFacade, OversizedMessagesAndFieldsAreCutAndMarked) {
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto sdk = obs::init(obs::Config().console(false).admin(false).with_prometheus(false).add_log_backend(logs));
  const std::string huge(100 * 1024, 'x');
  obs::log::info(huge, {{"value", huge}, {"ok", 1}});
  ASSERT_TRUE(sdk.flush());
  const auto r = logs->records().at(0);
  EXPECT_EQ(r.message, std::string(64 * 1024, 'x') + "...[truncated " + std::to_string(36 * 1024) + " bytes]");
  EXPECT_EQ(r.fields.at(0).str, std::string(16 * 1024, 'x') + "...[truncated " + std::to_string(84 * 1024) + " bytes]");
  EXPECT_EQ(r.fields.at(1).i, 1);
}

TEST(LogFacade, CutsNeverSplitAUtf8Character) {
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto sdk = obs::init(obs::Config().console(false).admin(false).with_prometheus(false).add_log_backend(logs));
  std::string text = std::string(64 * 1024 - 1, 'a') + "\xc3\xa9" + "tail";  // é straddles the limit
  obs::log::info(text);
  ASSERT_TRUE(sdk.flush());
  EXPECT_EQ(logs->records().at(0).message, std::string(64 * 1024 - 1, 'a') + "...[truncated 6 bytes]");
}

// The macros check the level before evaluating message and fields; the
// functions take them as arguments. Both deliver the same record.
TEST(LogFacade, MacrosEvaluateArgumentsOnlyAboveTheLevel) {
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto sdk = obs::init(obs::Config().console(false).admin(false).with_prometheus(false).add_log_backend(logs));
  obs::log::set_level(obs::log::Level::Info);
  int evaluated = 0;
  auto counted = [&](int v) {
    ++evaluated;
    return v;
  };
  OBS_LOG_DEBUG("hidden", {{"n", counted(1)}});
  EXPECT_EQ(evaluated, 0);
  OBS_LOG_INFO("shown", {{"n", counted(2)}, {"kind", "macro"}});
  OBS_LOG_WARNING("no fields");
  obs::log::debug("hidden too", {{"n", counted(3)}});  // a function's arguments are evaluated first
  EXPECT_EQ(evaluated, 2);
  ASSERT_TRUE(sdk.flush());
  const auto records = logs->records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].message, "shown");
  EXPECT_EQ(records[0].level, obs::log::Level::Info);
  EXPECT_EQ(records[0].fields.at(0).i, 2);
  EXPECT_EQ(records[0].fields.at(1).str, "macro");
  EXPECT_EQ(records[1].message, "no fields");
}

// A field answers only for its own type; the others read as zero.
TEST(LogFacade, FieldAccessorsAnswerForTheirTypeOnly) {
  const obs::Field text("k", "v"), number("k", 7), real("k", 0.5), flag("k", true);
  EXPECT_EQ(text.as_string(), "v");
  EXPECT_EQ(text.as_int(), 0);
  EXPECT_EQ(number.as_int(), 7);
  EXPECT_EQ(number.as_string(), "");
  EXPECT_EQ(number.as_double(), 0);
  EXPECT_EQ(real.as_double(), 0.5);
  EXPECT_FALSE(real.as_bool());
  EXPECT_TRUE(flag.as_bool());
  EXPECT_EQ(flag.as_int(), 0);
}

}  // namespace
