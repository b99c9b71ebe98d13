#include "trace/sampler.hpp"

#include <atomic>
#include <cmath>
#include <limits>

namespace obs::internal {
namespace {

std::atomic<int> g_sampler{static_cast<int>(Config::Sampler::ParentBasedAlwaysOn)};
// A trace is kept when the low 8 bytes of its id, read as a big-endian
// number, fall below this: the same trace id gets the same decision in
// every service that uses the same ratio.
std::atomic<std::uint64_t> g_threshold{std::numeric_limits<std::uint64_t>::max()};
std::atomic<bool> g_ratio_all{true};

bool ratio_keeps(const TraceId& id) {
  if (g_ratio_all.load(std::memory_order_relaxed)) return true;
  std::uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | id.bytes[static_cast<std::size_t>(i)];
  return v < g_threshold.load(std::memory_order_relaxed);
}

}  // namespace

void set_sampler(Config::Sampler sampler, double ratio) {
  if (!(ratio >= 0)) ratio = 0;
  if (ratio > 1) ratio = 1;
  g_ratio_all.store(ratio >= 1);
  // 2^64 itself does not fit a uint64_t: ratio 1 is handled by g_ratio_all.
  g_threshold.store(ratio >= 1 ? std::numeric_limits<std::uint64_t>::max()
                               : static_cast<std::uint64_t>(std::ldexp(ratio, 64)));
  g_sampler.store(static_cast<int>(sampler));
}

bool should_sample(const SpanContext& parent, const TraceId& trace_id) {
  using S = Config::Sampler;
  const auto sampler = static_cast<S>(g_sampler.load(std::memory_order_relaxed));
  const bool parent_based =
      sampler == S::ParentBasedAlwaysOn || sampler == S::ParentBasedAlwaysOff || sampler == S::ParentBasedTraceIdRatio;
  if (parent_based && parent.valid()) return parent.sampled;
  switch (sampler) {
    case S::AlwaysOn:
    case S::ParentBasedAlwaysOn: return true;
    case S::AlwaysOff:
    case S::ParentBasedAlwaysOff: return false;
    case S::TraceIdRatio:
    case S::ParentBasedTraceIdRatio: return ratio_keeps(trace_id);
  }
  return true;
}

}  // namespace obs::internal
