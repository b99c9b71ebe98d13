#pragma once
#include "obs/trace_context.hpp"

namespace obs::internal {
// This thread's current context (read by log calls and new spans).
inline Context& current() {
  static thread_local Context context;
  return context;
}
}  // namespace obs::internal
