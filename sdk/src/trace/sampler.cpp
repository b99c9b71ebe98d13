#include "trace/sampler.hpp"

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace obs::internal {
namespace {

std::atomic<int> g_sampler{static_cast<int>(Config::Sampler::ParentBasedAlwaysOn)};
// OpenTelemetry's consistent probability sampling: the randomness R is the
// trace id's rightmost 56 bits (W3C Trace Context Level 2 guarantees them
// random when the trace id's random flag is set, which it is on every
// trace obs starts; ids without the flag are presumed random too, as
// OpenTelemetry's TraceIdRatioBased does). A trace is kept when R is at
// least the rejection threshold T = (1 - ratio) * 2^56: the same trace id
// gets the same decision in every service, in every SDK that follows the
// spec, and a trace kept at one ratio is kept at every higher one.
std::atomic<std::uint64_t> g_threshold{0};

bool ratio_keeps(const TraceId& id) {
  std::uint64_t r = 0;
  for (std::size_t i = 9; i < 16; ++i) r = (r << 8) | id.bytes[i];
  return r >= g_threshold.load(std::memory_order_relaxed);
}

}  // namespace

void set_sampler(Config::Sampler sampler, double ratio) {
  if (!(ratio >= 0)) ratio = 0;
  if (ratio > 1) ratio = 1;
  // Rounded to the nearest threshold, as the spec's 56-bit precision allows.
  g_threshold.store(static_cast<std::uint64_t>(std::llround(std::ldexp(1.0 - ratio, 56))));
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
