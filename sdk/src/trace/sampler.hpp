#pragma once
#include "obs/config.hpp"
#include "obs/trace_context.hpp"

namespace obs::internal {
// Installed by init; read lock-free by every new span.
void set_sampler(Config::Sampler sampler, double ratio);
bool should_sample(const SpanContext& parent, const TraceId& trace_id);
}  // namespace obs::internal
