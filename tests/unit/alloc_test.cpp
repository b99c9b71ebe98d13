// The hot paths allocate nothing after warm-up. This binary replaces the
// global operator new with one that counts the allocations made by the
// measuring thread while counting is on; each test warms a path up, then
// runs it a million times and expects zero. (Background threads, the
// exporters, may allocate: they are not the application's threads.)
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <thread>
#include <mutex>
#include <condition_variable>
#include <memory>
#include <new>
#include <optional>
#include <string_view>

#include <gtest/gtest.h>

#include "obs/obs.hpp"

namespace {

thread_local bool t_counting = false;
thread_local std::size_t t_allocations = 0;

void* allocate(std::size_t size, std::size_t alignment = 0) {
  if (t_counting) ++t_allocations;
  if (size == 0) size = 1;
  void* p = alignment > alignof(std::max_align_t) ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)
                                                  : std::malloc(size);
  return p;
}

// Counts the allocations `fn` makes on this thread.
template <class Fn>
std::size_t allocations_in(Fn&& fn) {
  t_allocations = 0;
  t_counting = true;
  fn();
  t_counting = false;
  return t_allocations;
}

constexpr int kCalls = 1'000'000;

class DiscardingSpanBackend : public obs::SpanBackend {
 public:
  std::string_view name() const override { return "discard"; }
  void write(const obs::SpanBatch& batch) override { spans += batch.spans.size(); }
  std::atomic<std::size_t> spans{0};
};

class AllocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_shared<DiscardingSpanBackend>();
    obs::Config config;
    config.console(false).admin(false).sampler(obs::Config::Sampler::AlwaysOn).add_span_backend(backend_);
    sdk_.emplace(obs::init(std::move(config)));
  }
  void TearDown() override { sdk_->shutdown(std::chrono::seconds(5)); }

  std::shared_ptr<DiscardingSpanBackend> backend_;
  std::optional<obs::Sdk> sdk_;
};

TEST_F(AllocationTest, BoundCounterIncrements) {
  const auto counter = obs::counter("alloc_test_increments_total", {"kind"}).labels("bound");
  counter.inc();
  EXPECT_EQ(allocations_in([&] {
              for (int i = 0; i < kCalls; ++i) counter.inc();
            }),
            0u);
  EXPECT_GE(counter.value(), kCalls);
}

TEST_F(AllocationTest, BoundHistogramObservations) {
  const auto histogram = obs::histogram("alloc_test_duration_seconds", {"kind"}).labels("bound");
  histogram.observe(0.001);
  EXPECT_EQ(allocations_in([&] {
              for (int i = 0; i < kCalls; ++i) histogram.observe(0.0001 * (i % 100));
            }),
            0u);
}

TEST_F(AllocationTest, LogCallsBelowTheLevel) {
  obs::log::set_level(obs::log::Level::Warning);
  EXPECT_EQ(allocations_in([&] {
              for (int i = 0; i < kCalls; ++i) obs::log::info("not written", {{"i", i}, {"kind", "below"}});
            }),
            0u);
}

TEST_F(AllocationTest, SpanStartAndEndWithAWarmPool) {
  for (int i = 0; i < 10'000; ++i) obs::Span span("warm", {{"i", i}, {"kind", "span"}});
  ASSERT_TRUE(sdk_->flush(std::chrono::seconds(5)));
  EXPECT_EQ(allocations_in([&] {
              for (int i = 0; i < kCalls; ++i) obs::Span span("measured", {{"i", i}, {"kind", "span"}});
            }),
            0u);
  ASSERT_TRUE(sdk_->flush(std::chrono::seconds(5)));
  EXPECT_GT(backend_->spans.load(), 10'000u);
}

// Backends that hold the pipeline's thread in write() until released, so
// the queues fill and every further record or span is dropped.
class BlockingBackends : public obs::LogBackend, public obs::SpanBackend {
 public:
  std::string_view name() const override { return "blocking"; }
  void write(const obs::LogBatch&) override { hold(logs_held_); }
  void write(const obs::SpanBatch&) override { hold(spans_held_); }
  // Until a pipeline's thread is held in write(), it may still take records
  // out of its queue (and make room).
  void wait_until_held() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return logs_held_ && spans_held_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  void hold(bool& held) {
    std::unique_lock lock(mutex_);
    held = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  bool logs_held_ = false, spans_held_ = false, released_ = false;
};

// A thread's first drop used to allocate its metric words for the drop
// counter on the application's hot path; they are now prepared when the
// thread first logs or starts a span.
TEST(DropAllocation, DroppingLogsAndSpansAllocatesNothingOnANewThread) {
  auto blocking = std::make_shared<BlockingBackends>();
  obs::Config config;
  config.console(false).admin(false).with_prometheus(false).sampler(obs::Config::Sampler::AlwaysOn);
  config.add_log_backend(blocking).add_span_backend(blocking);
  constexpr int kQueue = 64;
  config.log_queue_capacity = kQueue;
  config.span_queue_capacity = kQueue;
  auto sdk = obs::init(std::move(config));
  std::size_t log_allocations = 1, span_allocations = 1;
  std::thread([&, kQueue] {
    (void)obs::current_context();  // this thread's first touch of the SDK: its preparation happens here
    // One record and one span reach each pipeline's thread, which is then
    // held; exactly a queue's worth more fills each queue without a drop
    // (allocating in their slots is fine), so this thread's first drop
    // happens inside the measured loop.
    obs::log::info("first", {{"i", 0}});
    { obs::Span span("first", {{"i", 0}}); }
    blocking->wait_until_held();
    for (int i = 0; i < kQueue; ++i) obs::log::info("fill", {{"i", i}});
    for (int i = 0; i < kQueue; ++i) obs::Span span("fill", {{"i", i}});
    log_allocations = allocations_in([&] {
      for (int i = 0; i < 100'000; ++i) obs::log::info("dropped", {{"i", i}});
    });
    span_allocations = allocations_in([&] {
      for (int i = 0; i < 100'000; ++i) obs::Span span("dropped", {{"i", i}});
    });
  }).join();
  EXPECT_EQ(log_allocations, 0u);
  EXPECT_EQ(span_allocations, 0u);
  double dropped = 0;
  for (const auto& f : obs::MetricsRegistry::global().snapshot().families)
    if (f.name == "obs_exporter_dropped")
      for (const auto& series : f.series) dropped += series.value;
  EXPECT_GE(dropped, 200'000) << "the measured calls were all dropped (and counted)";
  blocking->release();
  sdk.shutdown(std::chrono::seconds(5));
}

}  // namespace

// Every form of operator new goes through allocate(); delete through free().
// This file's own new/delete pair: allocate() takes from malloc, so free is
// right. GCC 12 under the sanitizers does not see the pair and warns where
// gtest's `new TestClass` meets these deletes.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (void* p = allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t al) {
  if (void* p = allocate(size, static_cast<std::size_t>(al))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t al) { return operator new(size, al); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
