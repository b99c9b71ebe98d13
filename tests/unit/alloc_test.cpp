// The hot paths allocate nothing after warm-up. This binary replaces the
// global operator new with one that counts the allocations made by the
// measuring thread while counting is on; each test warms a path up, then
// runs it a million times and expects zero. (Background threads, the
// exporters, may allocate: they are not the application's threads.)
#include <atomic>
#include <cstddef>
#include <cstdlib>
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

}  // namespace

// Every form of operator new goes through allocate(); delete through free().
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
